//! ONNX frontend: reads an ONNX file (through `tract-onnx`'s protobuf types) and lowers its
//! nodes, one registered lowering per op type, into the zkinfer float IR.
//!
//! Supported: float32 models with one input and one output, batch 1, built from Gemm,
//! MatMul + Add (constant), Relu, Flatten, Reshape and Identity; constants come from
//! initializers or `Constant` nodes. Anything else is an [`OnnxError::UnsupportedOp`] naming
//! the op type and the node.

mod attrs;
mod context;
mod error;
mod external;
mod fold;
mod layout;
mod ops;
mod prune;
mod registry;
mod tensor;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use tract_onnx::pb::{self, type_proto, ModelProto};
use tract_onnx::prelude::Framework;
use zkinfer_core::ir::Graph;

pub use error::OnnxError;
pub use registry::SUPPORTED;

use context::{display_name, Context};

/// Largest ONNX file accepted.
pub const MAX_MODEL_BYTES: u64 = 1 << 30;

/// Loads and lowers an ONNX file.
pub fn load(path: impl AsRef<Path>) -> Result<Graph, OnnxError> {
    let path = path.as_ref();
    let io = |source| OnnxError::Io {
        path: path.display().to_string(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_MODEL_BYTES {
        return Err(OnnxError::Model(format!(
            "{len} bytes exceeds the {MAX_MODEL_BYTES}-byte limit"
        )));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let mut proto = parse(&bytes)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    external::inline(&mut proto, dir)?;
    lower_model(&proto)
}

fn parse(bytes: &[u8]) -> Result<ModelProto, OnnxError> {
    tract_onnx::onnx()
        .proto_model_for_read(&mut &bytes[..])
        .map_err(|e| OnnxError::Parse(format!("{e:#}")))
}

/// Lowers an ONNX model held in memory (tensors in side files need [`load`], which knows the
/// model's folder).
pub fn load_bytes(bytes: &[u8]) -> Result<Graph, OnnxError> {
    lower_model(&parse(bytes)?)
}

/// Lowers a parsed ONNX model.
pub fn lower_model(model: &ModelProto) -> Result<Graph, OnnxError> {
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| OnnxError::Parse("the model has no graph".into()))?;
    let mut consts = HashMap::new();
    for t in &graph.initializer {
        let c = tensor::read(t).map_err(|detail| OnnxError::Tensor {
            node: "initializer".into(),
            tensor: t.name.clone(),
            detail,
        })?;
        consts.insert(t.name.clone(), c);
    }
    let init_names: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<&pb::ValueInfoProto> = graph
        .input
        .iter()
        .filter(|i| !init_names.contains(i.name.as_str()))
        .collect();
    let input = match inputs.as_slice() {
        [one] => *one,
        other => {
            return Err(OnnxError::Model(format!(
                "{} graph inputs; exactly one is supported",
                other.len()
            )))
        }
    };
    let input_shape = input_shape(input)?;
    let mut uses: HashMap<String, usize> = HashMap::new();
    for name in graph
        .node
        .iter()
        .flat_map(|n| &n.input)
        .chain(graph.output.iter().map(|o| &o.name))
    {
        *uses.entry(name.clone()).or_default() += 1;
    }
    let mut cx = Context {
        consts,
        values: HashMap::from([(input.name.clone(), 0)]),
        shapes: vec![input_shape.clone()],
        nodes: Vec::new(),
        uses,
        opset: model
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map(|o| o.version)
            .unwrap_or(13),
    };
    for node in &graph.node {
        if node.op_type == "Constant" {
            fold::constant(&mut cx, node)?;
            continue;
        }
        if !node.domain.is_empty() && node.domain != "ai.onnx" {
            return Err(OnnxError::UnsupportedOp {
                op_type: format!("{}::{}", node.domain, node.op_type),
                node: display_name(node),
            });
        }
        if fold::fold(&mut cx, node)? {
            continue;
        }
        let lower = registry::lowering(&node.op_type).ok_or_else(|| OnnxError::UnsupportedOp {
            op_type: node.op_type.clone(),
            node: display_name(node),
        })?;
        lower(&mut cx, node)?;
    }
    let output = match graph.output.as_slice() {
        [out] => *cx.values.get(&out.name).ok_or_else(|| {
            OnnxError::Model(format!(
                "graph output {} is not computed by the graph",
                out.name
            ))
        })?,
        other => {
            return Err(OnnxError::Model(format!(
                "{} graph outputs; exactly one is supported",
                other.len()
            )))
        }
    };
    let graph = prune::prune(Graph {
        input_shape,
        nodes: cx.nodes,
        output,
    });
    graph.shapes()?;
    Ok(graph)
}

fn input_shape(input: &pb::ValueInfoProto) -> Result<Vec<usize>, OnnxError> {
    let tensor = match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(type_proto::Value::TensorType(t)) => t,
        _ => {
            return Err(OnnxError::Model(format!(
                "input {} is not a tensor",
                input.name
            )))
        }
    };
    // Numeric element types: float32/64 and the integer types (read as numbers; integer
    // results are exact while they fit the quantized range).
    const NUMERIC: [i32; 10] = [1, 2, 3, 4, 5, 6, 7, 11, 12, 13];
    if !NUMERIC.contains(&tensor.elem_type) {
        return Err(OnnxError::Model(format!(
            "input {} has element type {}; only numeric tensors (float, double, integers) are supported",
            input.name, tensor.elem_type
        )));
    }
    let dims = tensor
        .shape
        .as_ref()
        .ok_or_else(|| OnnxError::Model(format!("input {} has no shape", input.name)))?;
    dims.dim
        .iter()
        .enumerate()
        .map(|(i, d)| match &d.value {
            Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)) if *v > 0 => {
                Ok(*v as usize)
            }
            // A symbolic or unknown leading dimension is the batch: 1.
            _ if i == 0 => Ok(1),
            _ => Err(OnnxError::Model(format!(
                "input {} has a non-constant dimension {i}",
                input.name
            ))),
        })
        .collect::<Result<Vec<usize>, OnnxError>>()
        .and_then(|shape| {
            let len = shape.iter().try_fold(1usize, |a, d| a.checked_mul(*d));
            match len {
                Some(n) if n <= zkinfer_core::spec::MAX_LEN => Ok(shape),
                _ => Err(OnnxError::Model(format!(
                    "input {} of shape {shape:?} exceeds {} values",
                    input.name,
                    zkinfer_core::spec::MAX_LEN
                ))),
            }
        })
}
