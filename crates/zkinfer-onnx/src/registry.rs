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
        "Mul" => ops::mul::lower,
        "Div" => ops::div::lower,
        "Transpose" => ops::transpose::lower,
        "Concat" => ops::concat::lower,
        "Slice" => ops::slice::lower,
        "Pad" => ops::pad::lower,
        "Squeeze" => ops::squeeze::squeeze,
        "Unsqueeze" => ops::squeeze::unsqueeze,
        "ReduceSum" => ops::reduce::sum,
        "ReduceMean" => ops::reduce::mean,
        "ReduceMax" => ops::reduce::max,
        "Softmax" => ops::softmax::softmax,
        "LogSoftmax" => ops::softmax::log_softmax,
        "LayerNormalization" => ops::layernorm::lower,
        _ => return None,
    })
}

/// Op types the frontend supports.
pub const SUPPORTED: &[&str] = &[
    "Gemm",
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Relu",
    "Flatten",
    "Reshape",
    "Identity",
    "Conv",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "BatchNormalization",
    "Sigmoid",
    "Tanh",
    "Exp",
    "Erf",
    "Gelu",
    "LeakyRelu",
    "Clip",
    "Transpose",
    "Concat",
    "Slice",
    "Pad",
    "Squeeze",
    "Unsqueeze",
    "ReduceSum",
    "ReduceMean",
    "ReduceMax",
    "Softmax",
    "LogSoftmax",
    "LayerNormalization",
];
