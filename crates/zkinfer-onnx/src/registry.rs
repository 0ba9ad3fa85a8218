//! ONNX op types → lowering functions. The only place op-type strings are matched.

use tract_onnx::pb::NodeProto;

use crate::context::Context;
use crate::{ops, OnnxError};

/// Lowers one node into the context.
pub type Lowering = fn(&mut Context, &NodeProto) -> Result<(), OnnxError>;

/// The lowering of an op type, if supported.
pub fn lowering(op_type: &str) -> Option<Lowering> {
    Some(match op_type {
        "Gemm" => ops::gemm::lower,
        "MatMul" => ops::matmul::lower,
        "Add" => ops::add::lower,
        "Sub" => ops::add::lower_sub,
        "Relu" => ops::relu::lower,
        "Flatten" => ops::flatten::lower,
        "Reshape" => ops::reshape::lower,
        "Identity" => ops::identity::lower,
        "Conv" => ops::conv::lower,
        "MaxPool" => ops::pool::lower_max,
        "AveragePool" => ops::pool::lower_average,
        "GlobalAveragePool" => ops::pool::lower_global_average,
        "BatchNormalization" => ops::batchnorm::lower,
        "Sigmoid" => ops::activation::sigmoid,
        "Tanh" => ops::activation::tanh,
        "Exp" => ops::activation::exp,
        "Erf" => ops::activation::erf,
        "Gelu" => ops::activation::gelu,
        "LeakyRelu" => ops::activation::leaky_relu,
        "Clip" => ops::activation::clip,
        _ => return None,
    })
}

/// Op types the frontend supports.
pub const SUPPORTED: &[&str] = &[
    "Gemm", "MatMul", "Add", "Relu", "Flatten", "Reshape", "Identity",
];
