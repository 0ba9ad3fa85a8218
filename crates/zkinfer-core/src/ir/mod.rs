//! The float model IR that frontends produce: a chain of typed ops on one tensor.
//!
//! Batch size is 1; a tensor is a flat row-major vector plus its shape.

mod conv;
mod dense;
mod lower;
mod pool;

pub use conv::Conv2d;
pub use dense::Dense;
pub use lower::{lower, FloatLayer, LayerOp};
pub use pool::{Pool, PoolKind};

use crate::CoreError;

/// A typed operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `y = W x + b` on a flat vector.
    Dense(Dense),
    /// 2-D convolution on a `[1, C, H, W]` tensor.
    Conv2d(Conv2d),
    /// Max or average pooling on a `[1, C, H, W]` tensor.
    Pool(Pool),
    /// `y = max(x, 0)`.
    Relu,
    /// A new shape for the same row-major data (Flatten, Reshape, Identity).
    Reshape(Vec<usize>),
}

impl Op {
    /// Short name of the op for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Dense(_) => "Dense",
            Op::Conv2d(_) => "Conv2d",
            Op::Pool(p) => match p.kind {
                PoolKind::Max => "MaxPool",
                PoolKind::Average => "AveragePool",
            },
            Op::Relu => "Relu",
            Op::Reshape(_) => "Reshape",
        }
    }
}

/// One node of the chain.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Name of the node in the source model.
    pub name: String,
    /// What it computes.
    pub op: Op,
}

/// A model: one input tensor flowing through a chain of nodes to one output tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// Shape of the input tensor (batch dimension included, equal to 1 where present).
    pub input_shape: Vec<usize>,
    /// Nodes in execution order; each consumes the previous node's output.
    pub nodes: Vec<Node>,
}

impl Graph {
    /// Number of scalars in the input.
    pub fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// Shape of every node's output, checking that each op fits its input.
    pub fn shapes(&self) -> Result<Vec<Vec<usize>>, CoreError> {
        let mut shape = self.input_shape.clone();
        let mut out = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let len: usize = shape.iter().product();
            shape = match &node.op {
                Op::Dense(d) => {
                    if d.inputs != len {
                        return Err(CoreError::ShapeMismatch {
                            context: format!("node {} (Dense)", node.name),
                            expected: format!("{} input values", d.inputs),
                            got: format!("{shape:?}"),
                        });
                    }
                    vec![1, d.outputs]
                }
                Op::Conv2d(c) => {
                    check_image(&node.name, "Conv2d", &shape, c.window.input)?;
                    let [co, h, w] = c.output_shape();
                    vec![1, co, h, w]
                }
                Op::Pool(p) => {
                    check_image(&node.name, "Pool", &shape, p.window.input)?;
                    let [c, h, w] = p.output_shape();
                    vec![1, c, h, w]
                }
                Op::Relu => shape,
                Op::Reshape(new) => {
                    if new.iter().product::<usize>() != len {
                        return Err(CoreError::ShapeMismatch {
                            context: format!("node {} (Reshape)", node.name),
                            expected: format!("{len} values"),
                            got: format!("target shape {new:?}"),
                        });
                    }
                    new.clone()
                }
            };
            out.push(shape.clone());
        }
        Ok(out)
    }

    /// Shape of the model output.
    pub fn output_shape(&self) -> Result<Vec<usize>, CoreError> {
        Ok(self
            .shapes()?
            .pop()
            .unwrap_or_else(|| self.input_shape.clone()))
    }

    /// Float forward pass (the model as exported).
    pub fn eval_f32(&self, input: &[f32]) -> Result<Vec<f32>, CoreError> {
        if input.len() != self.input_len() {
            return Err(CoreError::InputLength {
                expected: self.input_len(),
                got: input.len(),
            });
        }
        let mut x = input.to_vec();
        for node in &self.nodes {
            x = match &node.op {
                Op::Dense(d) => d.eval(&x),
                Op::Conv2d(c) => c.eval(&x),
                Op::Pool(p) => p.eval(&x),
                Op::Relu => x.into_iter().map(|v| v.max(0.0)).collect(),
                Op::Reshape(_) => x,
            };
        }
        Ok(x)
    }
}

/// Checks that `shape` is the `[1, C, H, W]` (or `[C, H, W]`) image a window op expects.
fn check_image(
    node: &str,
    op: &str,
    shape: &[usize],
    expected: [usize; 3],
) -> Result<(), CoreError> {
    let got = match shape {
        [1, c, h, w] | [c, h, w] => [*c, *h, *w],
        _ => [0, 0, 0],
    };
    let as_window = crate::geometry::Window {
        input: expected,
        kernel: [1, 1],
        stride: [1, 1],
        pads: [0; 4],
    };
    if got != expected || !as_window.is_reasonable() {
        return Err(CoreError::ShapeMismatch {
            context: format!("node {node} ({op})"),
            expected: format!("[1, {}, {}, {}]", expected[0], expected[1], expected[2]),
            got: format!("{shape:?}"),
        });
    }
    Ok(())
}
