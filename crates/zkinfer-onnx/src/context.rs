//! The state of lowering: constants seen so far, the values (activations) by name, and the IR
//! nodes built.

use std::collections::HashMap;

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Node, Op};

use crate::tensor::Const;
use crate::OnnxError;

/// Lowering state.
#[derive(Debug)]
pub struct Context {
    /// Constant tensors by value name.
    pub consts: HashMap<String, Const>,
    /// IR value id of every activation by name (0 is the graph input).
    pub values: HashMap<String, usize>,
    /// Shape of every IR value.
    pub shapes: Vec<Vec<usize>>,
    /// IR nodes so far (node `i` produces value `i + 1`).
    pub nodes: Vec<Node>,
    /// How many times each value name is read by a node or is the graph output.
    pub uses: HashMap<String, usize>,
    /// The op types (or "graph output") reading each value name.
    pub readers: HashMap<String, Vec<String>>,
    /// Values holding masked entries (an attention mask of `-inf` or a huge negative
    /// constant), with which entries are masked; only a `Softmax` may read them, and it
    /// excludes those entries.
    pub masks: HashMap<usize, Vec<bool>>,
    /// Version of the default ONNX operator set the model imports.
    pub opset: i64,
}

/// Constants at or below this are attention masks (softmax weight 0), not values.
pub const MASK_BELOW: f32 = -1e4;

impl Context {
    /// Input `idx` of `node` as an activation: its IR value id.
    pub fn activation(&self, node: &NodeProto, idx: usize) -> Result<usize, OnnxError> {
        let name = node
            .input
            .get(idx)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| missing(node, idx))?;
        self.values
            .get(name)
            .copied()
            .ok_or_else(|| OnnxError::Unsupported {
                op_type: node.op_type.clone(),
                node: display_name(node),
                detail: format!("input {idx} ({name}) must be an activation, not a constant"),
            })
    }

    /// Whether input `idx` of `node` is an activation.
    pub fn is_activation(&self, node: &NodeProto, idx: usize) -> bool {
        node.input
            .get(idx)
            .is_some_and(|n| self.values.contains_key(n))
    }

    /// Shape of IR value `v`.
    pub fn shape(&self, v: usize) -> &[usize] {
        self.shapes.get(v).map(|s| &s[..]).unwrap_or(&[])
    }

    /// Input `idx` of `node` as a constant tensor.
    pub fn constant(&self, node: &NodeProto, idx: usize) -> Result<&Const, OnnxError> {
        let name = node
            .input
            .get(idx)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| missing(node, idx))?;
        self.consts.get(name).ok_or_else(|| OnnxError::Unsupported {
            op_type: node.op_type.clone(),
            node: display_name(node),
            detail: format!(
                "input {idx} ({name}) must be a constant (initializer or Constant node)"
            ),
        })
    }

    /// Input `idx` of `node` as a constant, if the input is present.
    pub fn optional_constant(
        &self,
        node: &NodeProto,
        idx: usize,
    ) -> Result<Option<&Const>, OnnxError> {
        match node.input.get(idx) {
            Some(name) if !name.is_empty() => self.constant(node, idx).map(Some),
            _ => Ok(None),
        }
    }

    fn output<'a>(&self, node: &'a NodeProto) -> Result<&'a String, OnnxError> {
        node.output.first().ok_or_else(|| OnnxError::Unsupported {
            op_type: node.op_type.clone(),
            node: display_name(node),
            detail: "node has no output".into(),
        })
    }

    /// Appends an IR node reading `inputs` and producing `node`'s first output with `shape`.
    pub fn push(
        &mut self,
        node: &NodeProto,
        op: Op,
        inputs: Vec<usize>,
        shape: Vec<usize>,
    ) -> Result<(), OnnxError> {
        self.push_output(node, 0, op, inputs, shape)
    }

    /// Appends an IR node reading `inputs` and producing `node`'s output `idx` with `shape`.
    pub fn push_output(
        &mut self,
        node: &NodeProto,
        idx: usize,
        op: Op,
        inputs: Vec<usize>,
        shape: Vec<usize>,
    ) -> Result<(), OnnxError> {
        let out = match idx {
            0 => self.output(node)?.clone(),
            _ => node.output.get(idx).cloned().unwrap_or_default(),
        };
        if out.is_empty() {
            return Ok(());
        }
        let name = match idx {
            0 => display_name(node),
            _ => format!("{}/{out}", display_name(node)),
        };
        self.nodes.push(Node { name, op, inputs });
        self.shapes.push(shape);
        self.values.insert(out, self.nodes.len());
        Ok(())
    }

    /// Whether every reader of `node`'s first output is a `Softmax`.
    pub fn only_softmax_reads(&self, node: &NodeProto) -> bool {
        node.output
            .first()
            .and_then(|o| self.readers.get(o))
            .is_some_and(|r| !r.is_empty() && r.iter().all(|op| op == "Softmax"))
    }

    /// Appends an IR node that produces an intermediate value (part of a node's lowering);
    /// returns its value id.
    pub fn push_value(
        &mut self,
        name: String,
        op: Op,
        inputs: Vec<usize>,
        shape: Vec<usize>,
    ) -> usize {
        self.nodes.push(Node { name, op, inputs });
        self.shapes.push(shape);
        self.nodes.len()
    }

    /// Names `node`'s first output as the existing value `v` (no computation).
    pub fn alias(&mut self, node: &NodeProto, v: usize) -> Result<(), OnnxError> {
        let out = self.output(node)?.clone();
        self.values.insert(out, v);
        Ok(())
    }

    /// The node producing value `v`, when `node`'s input `idx` (which holds `v`) is read by
    /// nothing else, so that `node` may be folded into it.
    pub fn foldable_producer(
        &mut self,
        node: &NodeProto,
        idx: usize,
        v: usize,
    ) -> Option<&mut Node> {
        node.input.get(idx)?;
        // Every name of the value counts (Identity and casts only rename it).
        let readers: usize = self
            .values
            .iter()
            .filter(|(_, id)| **id == v)
            .map(|(name, _)| self.uses.get(name).copied().unwrap_or(0))
            .sum();
        if v == 0 || readers != 1 {
            return None;
        }
        self.nodes.get_mut(v - 1)
    }
}

/// A node's name, or its op type and first output when it has none.
pub fn display_name(node: &NodeProto) -> String {
    if node.name.is_empty() {
        format!(
            "{}:{}",
            node.op_type,
            node.output.first().map(String::as_str).unwrap_or("?")
        )
    } else {
        node.name.clone()
    }
}

fn missing(node: &NodeProto, idx: usize) -> OnnxError {
    OnnxError::Unsupported {
        op_type: node.op_type.clone(),
        node: display_name(node),
        detail: format!("input {idx} is missing"),
    }
}
