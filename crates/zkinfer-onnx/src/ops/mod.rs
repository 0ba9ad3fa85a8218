//! One lowering per ONNX op type.

pub mod activation;
pub mod add;
pub mod batchnorm;
pub mod broadcast;
pub mod concat;
pub mod conv;
pub mod div;
pub mod flatten;
pub mod gemm;
pub mod identity;
pub mod layernorm;
pub mod matmul;
pub mod mul;
pub mod pad;
pub mod pool;
pub mod reduce;
pub mod relu;
pub mod reshape;
pub mod select;
pub mod slice;
pub mod softmax;
pub mod squeeze;
pub mod transpose;
pub mod window;

/// Number of scalars of a shape.
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}
