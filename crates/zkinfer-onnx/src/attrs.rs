//! Typed access to node attributes.

use tract_onnx::pb::{AttributeProto, NodeProto, TensorProto};

use crate::OnnxError;

/// The attributes of one node, with its identity for error messages.
#[derive(Debug)]
pub struct Attrs<'a> {
    node: &'a NodeProto,
}

impl<'a> Attrs<'a> {
    /// Attributes of `node`.
    pub fn new(node: &'a NodeProto) -> Self {
        Attrs { node }
    }

    fn get(&self, name: &str) -> Option<&'a AttributeProto> {
        self.node.attribute.iter().find(|a| a.name == name)
    }

    /// An error about this node.
    pub fn unsupported(&self, detail: impl Into<String>) -> OnnxError {
        OnnxError::Unsupported {
            op_type: self.node.op_type.clone(),
            node: crate::context::display_name(self.node),
            detail: detail.into(),
        }
    }

    /// An integer attribute, or `default`.
    pub fn int(&self, name: &str, default: i64) -> i64 {
        self.get(name).map(|a| a.i).unwrap_or(default)
    }

    /// A float attribute, or `default`.
    pub fn float(&self, name: &str, default: f32) -> f32 {
        self.get(name).map(|a| a.f).unwrap_or(default)
    }

    /// An integer-list attribute, or `None` when absent.
    pub fn ints(&self, name: &str) -> Option<&'a [i64]> {
        self.get(name).map(|a| &a.ints[..])
    }

    /// A string attribute, or `default`.
    pub fn string(&self, name: &str, default: &str) -> String {
        self.get(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
            .unwrap_or_else(|| default.to_string())
    }

    /// Whether the attribute is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The node's op type.
    pub fn op_type(&self) -> &'a str {
        &self.node.op_type
    }

    /// Number of outputs the node names.
    pub fn outputs(&self) -> usize {
        self.node.output.len()
    }

    /// A float-list attribute, or `None` when absent.
    pub fn floats(&self, name: &str) -> Option<&'a [f32]> {
        self.get(name).map(|a| &a.floats[..])
    }

    /// A string-list attribute, or `None` when absent.
    pub fn strings(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|a| {
            a.strings
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
    }

    /// A tensor attribute.
    pub fn tensor(&self, name: &str) -> Option<&'a TensorProto> {
        self.get(name).and_then(|a| a.t.as_ref())
    }

    /// Names of attributes not in `known`.
    pub fn reject_unknown(&self, known: &[&str]) -> Result<(), OnnxError> {
        match self
            .node
            .attribute
            .iter()
            .find(|a| !known.contains(&a.name.as_str()))
        {
            Some(a) => Err(self.unsupported(format!("attribute {} is not supported", a.name))),
            None => Ok(()),
        }
    }
}
