//! One lowering per ONNX op type.

pub mod activation;
pub mod add;
pub mod affine;
pub mod argmax;
pub mod batched_matmul;
pub mod batchnorm;
pub mod broadcast;
pub mod cast;
pub mod choose;
pub mod compare;
pub mod concat;
pub mod conv;
pub mod convtranspose;
pub mod div;
pub mod embedding;
pub mod extremum;
pub mod gemm;
pub mod identity;
pub mod instancenorm;
pub mod layernorm;
pub mod matmul;
pub mod ml;
pub mod mul;
pub mod pad;
pub mod pool;
pub mod pow;
pub mod prelu;
pub mod rearrange;
pub mod reduce;
pub mod relu;
pub mod resize;
pub mod select;
pub mod softmax;
pub mod sum;
pub mod window;

/// Checks that a tensor of `shape` is within the size a model may have (before anything of
/// that size is allocated).
pub fn check_len(attrs: &crate::attrs::Attrs<'_>, shape: &[usize]) -> Result<(), crate::OnnxError> {
    let len = shape.iter().try_fold(1usize, |a, d| a.checked_mul(*d));
    match len {
        Some(n) if n <= zkinfer_core::spec::MAX_LEN => Ok(()),
        _ => Err(attrs.unsupported(format!(
            "a tensor of shape {shape:?} exceeds {} values",
            zkinfer_core::spec::MAX_LEN
        ))),
    }
}

/// Number of scalars of a shape.
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}
