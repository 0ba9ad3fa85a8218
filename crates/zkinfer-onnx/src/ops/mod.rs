//! One lowering per ONNX op type.

pub mod add;
pub mod flatten;
pub mod gemm;
pub mod identity;
pub mod matmul;
pub mod relu;
pub mod reshape;

/// Number of scalars of a shape.
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}
