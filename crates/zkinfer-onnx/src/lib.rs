//! ONNX frontend: reads an ONNX file (through `tract-onnx`'s protobuf types), folds what is
//! computed from constants (shape arithmetic, casts, masks) and lowers the rest,
//! one registered lowering per op type, into the zkinfer float IR.
//!
//! A graph with several inputs reads one model input, their concatenation in the graph's
//! order (input files hold one array per input, as EZKL's do); several outputs are returned
//! concatenated, in the graph's order. Weights may sit in a side file next to the model.
//! The supported op types are [`SUPPORTED`]; anything else is an
//! [`OnnxError::UnsupportedOp`] naming the op type and the node.

mod attrs;
mod context;
mod error;
mod external;
mod fold;
mod layout;
mod ops;
mod prune;
mod registry;
mod resize;
mod tensor;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use tract_onnx::pb::{self, type_proto, ModelProto};
use tract_onnx::prelude::Framework;
use zkinfer_core::ir::Graph;

pub use error::OnnxError;
pub use registry::{SUPPORTED, SUPPORTED_ML};

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
    if inputs.is_empty() {
        return Err(OnnxError::Model("the graph has no input".into()));
    }
    let shapes = inputs
        .iter()
        .map(|i| input_shape(i))
        .collect::<Result<Vec<_>, _>>()?;
    let input_shape = joined_shape(&shapes)?;
    let mut uses: HashMap<String, usize> = HashMap::new();
    let mut readers: HashMap<String, Vec<String>> = HashMap::new();
    for node in &graph.node {
        for name in &node.input {
            *uses.entry(name.clone()).or_default() += 1;
            readers
                .entry(name.clone())
                .or_default()
                .push(node.op_type.clone());
        }
    }
    for out in &graph.output {
        *uses.entry(out.name.clone()).or_default() += 1;
        readers
            .entry(out.name.clone())
            .or_default()
            .push("graph output".into());
    }
    let mut cx = Context {
        consts,
        values: HashMap::new(),
        shapes: vec![input_shape.clone()],
        nodes: Vec::new(),
        uses,
        readers,
        masks: HashMap::new(),
        opset: model
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map(|o| o.version)
            .unwrap_or(13),
    };
    bind_inputs(&mut cx, &inputs, &shapes)?;
    for node in &graph.node {
        if node.op_type == "Constant" {
            fold::constant(&mut cx, node)?;
            continue;
        }
        if node.domain == "ai.onnx.ml" {
            let lower =
                registry::ml_lowering(&node.op_type).ok_or_else(|| OnnxError::UnsupportedOp {
                    op_type: format!("{}::{}", node.domain, node.op_type),
                    node: display_name(node),
                })?;
            lower(&mut cx, node)?;
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
    let output = join_outputs(&mut cx, &graph.output)?;
    let output_parts = match graph.output.len() {
        1 => Vec::new(),
        _ => graph
            .output
            .iter()
            .map(|o| match (cx.values.get(&o.name), cx.consts.get(&o.name)) {
                (Some(v), _) => cx.shape(*v).to_vec(),
                (None, Some(c)) => c.shape.clone(),
                (None, None) => Vec::new(),
            })
            .collect(),
    };
    let graph = prune::prune(Graph {
        input_shape,
        nodes: cx.nodes,
        output,
        output_parts,
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
    // Numeric element types: float32/64, the integer types and booleans (read as numbers:
    // 0 and 1; integer results are exact while they fit the quantized range).
    const NUMERIC: [i32; 11] = [1, 2, 3, 4, 5, 6, 7, 9, 11, 12, 13];
    if !NUMERIC.contains(&tensor.elem_type) {
        return Err(OnnxError::Model(format!(
            "input {} has element type {}; only numeric tensors (float, double, integers, booleans) are supported",
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

/// The model input: the one graph input's shape, or the concatenation of several (flat).
fn joined_shape(shapes: &[Vec<usize>]) -> Result<Vec<usize>, OnnxError> {
    if let [one] = shapes {
        return Ok(one.clone());
    }
    let total: usize = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
    if total > zkinfer_core::spec::MAX_LEN {
        return Err(OnnxError::Model(format!(
            "the graph inputs hold {total} values together, more than {}",
            zkinfer_core::spec::MAX_LEN
        )));
    }
    Ok(vec![total])
}

/// Names the graph inputs: the model input itself, or (several inputs) each one's slice of
/// the concatenated model input, in the graph's order.
fn bind_inputs(
    cx: &mut Context,
    inputs: &[&pb::ValueInfoProto],
    shapes: &[Vec<usize>],
) -> Result<(), OnnxError> {
    if let [one] = inputs {
        cx.values.insert(one.name.clone(), 0);
        return Ok(());
    }
    let total: usize = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
    let mut offset = 0;
    for (input, shape) in inputs.iter().zip(shapes) {
        let n: usize = shape.iter().product();
        let picked = layout::from_vec(shape, (offset as i64..(offset + n) as i64).collect())
            .map_err(|e| OnnxError::Model(format!("input {}: {e}", input.name)))?;
        offset += n;
        let op = ops::rearrange::op_of(&picked, total);
        let v = cx.push_value(input.name.clone(), op, vec![0], shape.clone());
        cx.values.insert(input.name.clone(), v);
    }
    Ok(())
}

/// The model output: the one graph output, or the concatenation of several (flat, in the
/// graph's order).
fn join_outputs(cx: &mut Context, outputs: &[pb::ValueInfoProto]) -> Result<usize, OnnxError> {
    let mut values = Vec::with_capacity(outputs.len());
    for o in outputs {
        values.push(match (cx.values.get(&o.name), cx.consts.get(&o.name)) {
            (Some(v), _) => *v,
            // An output computed from constants alone (e.g. a shape): public constants.
            (None, Some(c)) => {
                let c = c.clone();
                ops::broadcast::constant_to(cx, &o.name, &c, &c.shape)
            }
            (None, None) => {
                return Err(OnnxError::Model(format!(
                    "graph output {} is not computed by the graph",
                    o.name
                )))
            }
        });
    }
    match values.as_slice() {
        [] => Err(OnnxError::Model("the graph has no output".into())),
        [one] => Ok(*one),
        _ => {
            // The outputs share one scale; each is read through a copy (`+ 0`, rescaled on
            // its own) so that scale does not coarsen the value the rest of the graph reads
            // (a classifier's probabilities, from which its label was taken).
            let values: Vec<usize> = values
                .iter()
                .zip(outputs)
                .map(|(v, o)| {
                    let shape = cx.shape(*v).to_vec();
                    let zero = tensor::Const {
                        shape: vec![1],
                        floats: vec![0.0],
                        ints: vec![],
                    };
                    let z = ops::broadcast::constant_to(cx, &o.name, &zero, &shape);
                    let op = zkinfer_core::ir::Op::Add;
                    cx.push_value(format!("{}/output", o.name), op, vec![*v, z], shape)
                })
                .collect();
            let entries: Vec<zkinfer_core::ir::Entry> = values
                .iter()
                .enumerate()
                .flat_map(|(input, v)| {
                    let n: usize = cx.shape(*v).iter().product();
                    (0..n).map(move |index| zkinfer_core::ir::Entry::Value { input, index })
                })
                .collect();
            let len = entries.len();
            let gather = zkinfer_core::ir::Gather {
                entries,
                shape: vec![len],
            };
            Ok(cx.push_value(
                "outputs".into(),
                zkinfer_core::ir::Op::Gather(gather),
                values,
                vec![len],
            ))
        }
    }
}
