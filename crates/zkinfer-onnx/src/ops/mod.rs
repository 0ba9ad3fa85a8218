//! One lowering per ONNX op type.

pub mod activation;
pub mod add;
pub mod batchnorm;
pub mod conv;
pub mod flatten;
pub mod gemm;
pub mod identity;
pub mod matmul;
pub mod pool;
pub mod relu;
pub mod reshape;
pub mod window;

/// Number of scalars of a shape.
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}
