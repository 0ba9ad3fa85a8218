//! The state of lowering: constants seen so far and the chain of IR nodes built.

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
    /// Name of the value holding the current activation.
    pub current: String,
    /// Shape of the current activation.
    pub shape: Vec<usize>,
    /// IR nodes so far.
    pub nodes: Vec<Node>,
}

impl Context {
    /// Whether value `name` is the current activation.
    pub fn is_activation(&self, name: &str) -> bool {
        name == self.current
    }

    /// Requires input `idx` of `node` to be the current activation.
    pub fn activation(&self, node: &NodeProto, idx: usize) -> Result<(), OnnxError> {
        match node.input.get(idx) {
            Some(name) if self.is_activation(name) => Ok(()),
            Some(name) => Err(OnnxError::Unsupported {
                op_type: node.op_type.clone(),
                node: node.name.clone(),
                detail: format!(
                    "input {idx} ({name}) must be the running activation {}",
                    self.current
                ),
            }),
            None => Err(missing(node, idx)),
        }
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
            node: node.name.clone(),
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

    /// Appends an IR node producing `node`'s first output with `shape`.
    pub fn push(
        &mut self,
        node: &NodeProto,
        op: Option<Op>,
        shape: Vec<usize>,
    ) -> Result<(), OnnxError> {
        let out = node.output.first().ok_or_else(|| OnnxError::Unsupported {
            op_type: node.op_type.clone(),
            node: node.name.clone(),
            detail: "node has no output".into(),
        })?;
        if let Some(op) = op {
            self.nodes.push(Node {
                name: display_name(node),
                op,
            });
        }
        self.current = out.clone();
        self.shape = shape;
        Ok(())
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
