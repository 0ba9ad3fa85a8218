//! The float model IR that frontends produce: a DAG of typed ops over tensors.
//!
//! Batch size is 1; a tensor is a flat row-major vector plus its shape. Values are numbered:
//! value 0 is the graph input, value `i + 1` is the output of node `i`; nodes are in
//! topological order.

mod conv;
mod dense;
pub mod gather;
mod lower;
mod matmul;
mod pool;

pub use conv::{first_channel as conv_first_channel, Conv2d};
pub use dense::Dense;
pub use gather::{Entry, Gather};
pub use lower::{float_trace, lower, FloatLayer, LayerOp};
pub use matmul::MatMul;
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
    /// Elementwise sum of two tensors of the same shape.
    Add,
    /// Elementwise difference of two tensors of the same shape.
    Sub,
    /// An elementwise function (applied by table lookup in the circuit).
    Activation(crate::spec::Function),
    /// Values picked from the inputs or constants (wiring).
    Gather(Gather),
    /// Elementwise product of two tensors of the same shape.
    Mul,
    /// Product of two activation matrices.
    MatMul(MatMul),
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
                PoolKind::Sum => "ReduceSum",
            },
            Op::Relu => "Relu",
            Op::Reshape(_) => "Reshape",
            Op::Add => "Add",
            Op::Sub => "Sub",
            Op::Activation(_) => "Activation",
            Op::Gather(_) => "Gather",
            Op::Mul => "Mul",
            Op::MatMul(_) => "MatMul",
        }
    }
}

/// One node of the graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Name of the node in the source model.
    pub name: String,
    /// What it computes.
    pub op: Op,
    /// Value ids it reads (0: graph input, `i + 1`: output of node `i`).
    pub inputs: Vec<usize>,
}

/// A model: one input tensor, a DAG of nodes, one output tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// Shape of the input tensor (batch dimension included, equal to 1 where present).
    pub input_shape: Vec<usize>,
    /// Nodes in topological order.
    pub nodes: Vec<Node>,
    /// Value id of the output.
    pub output: usize,
    /// Shapes of the graph's outputs when it has several (the output is their concatenation,
    /// in order); empty for one output.
    pub output_parts: Vec<Vec<usize>>,
}

impl Graph {
    /// Number of scalars in the input.
    pub fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// A chain: each node reads the previous node's output; the last node is the output.
    pub fn chain(input_shape: Vec<usize>, nodes: Vec<(String, Op)>) -> Self {
        let n = nodes.len();
        Graph {
            input_shape,
            nodes: nodes
                .into_iter()
                .enumerate()
                .map(|(i, (name, op))| Node {
                    name,
                    op,
                    inputs: vec![i],
                })
                .collect(),
            output: n,
            output_parts: Vec::new(),
        }
    }

    /// Shape of every value (input first), checking that each op fits its inputs.
    pub fn shapes(&self) -> Result<Vec<Vec<usize>>, CoreError> {
        let mut shapes = Vec::with_capacity(self.nodes.len() + 1);
        shapes.push(self.input_shape.clone());
        for (i, node) in self.nodes.iter().enumerate() {
            let arity_ok = match &node.op {
                Op::Add | Op::Sub | Op::Mul | Op::MatMul(_) => node.inputs.len() == 2,
                Op::Gather(_) => !node.inputs.is_empty(),
                _ => node.inputs.len() == 1,
            };
            if !arity_ok || node.inputs.iter().any(|v| *v > i) {
                return Err(CoreError::Unsupported(format!(
                    "node {} ({}) reads values {:?}: a wrong count or not earlier values",
                    node.name,
                    node.op.kind(),
                    node.inputs
                )));
            }
            let shape = &shapes[node.inputs[0]];
            let len: usize = shape.iter().product();
            let out = match &node.op {
                Op::Dense(d) => {
                    if d.weights.len() != d.inputs * d.outputs || d.bias.len() != d.outputs {
                        return Err(CoreError::ShapeMismatch {
                            context: format!("node {} (Dense) parameters", node.name),
                            expected: format!(
                                "{}x{} weights, {} biases",
                                d.outputs, d.inputs, d.outputs
                            ),
                            got: format!("{} weights, {} biases", d.weights.len(), d.bias.len()),
                        });
                    }
                    if d.inputs * d.batch != len {
                        return Err(CoreError::ShapeMismatch {
                            context: format!("node {} (Dense)", node.name),
                            expected: format!("{} input values", d.inputs * d.batch),
                            got: format!("{shape:?}"),
                        });
                    }
                    if d.batch == 1 {
                        vec![1, d.outputs]
                    } else {
                        vec![d.batch, d.outputs]
                    }
                }
                Op::Conv2d(c) => {
                    check_image(&node.name, "Conv2d", shape, c.window.input)?;
                    if c.weights.len() != c.out_channels * c.kernel_len()
                        || c.bias.len() != c.out_channels
                    {
                        return Err(CoreError::ShapeMismatch {
                            context: format!("node {} (Conv2d) parameters", node.name),
                            expected: format!(
                                "{}x{} weights, {} biases",
                                c.out_channels,
                                c.kernel_len(),
                                c.out_channels
                            ),
                            got: format!("{} weights, {} biases", c.weights.len(), c.bias.len()),
                        });
                    }
                    let [co, h, w] = c.output_shape();
                    vec![1, co, h, w]
                }
                Op::Pool(p) => {
                    check_image(&node.name, "Pool", shape, p.window.input)?;
                    let [c, h, w] = p.output_shape();
                    vec![1, c, h, w]
                }
                Op::Relu | Op::Activation(_) => shape.clone(),
                Op::Gather(g) => {
                    let lens: Vec<usize> = node
                        .inputs
                        .iter()
                        .map(|v| shapes[*v].iter().product())
                        .collect();
                    if !g.fits(&lens) {
                        return Err(CoreError::ShapeMismatch {
                            context: format!("node {} (Gather)", node.name),
                            expected: format!("entries reading inputs of {lens:?} values"),
                            got: format!("{} entries for shape {:?}", g.entries.len(), g.shape),
                        });
                    }
                    g.shape.clone()
                }
                Op::MatMul(mm) => {
                    let other: usize = shapes[node.inputs[1]].iter().product();
                    if mm.batch * mm.m * mm.k != len || mm.batch * mm.k * mm.n != other {
                        return Err(CoreError::ShapeMismatch {
                            context: format!("node {} (MatMul)", node.name),
                            expected: format!(
                                "{}x{}x{} and {}x{}x{} values",
                                mm.batch, mm.m, mm.k, mm.batch, mm.k, mm.n
                            ),
                            got: format!("{shape:?} and {:?}", shapes[node.inputs[1]]),
                        });
                    }
                    let mut out = shape.clone();
                    if let Some(last) = out.last_mut() {
                        *last = mm.n;
                    }
                    if out.iter().product::<usize>() != mm.batch * mm.m * mm.n {
                        out = vec![mm.batch, mm.m, mm.n];
                    }
                    out
                }
                Op::Add | Op::Sub | Op::Mul => {
                    // Elementwise on row-major data: the operands hold the same number of
                    // values (frontends broadcast first).
                    let other = &shapes[node.inputs[1]];
                    if other.iter().product::<usize>() != len {
                        return Err(CoreError::ShapeMismatch {
                            context: format!("node {} ({})", node.name, node.op.kind()),
                            expected: format!("{shape:?}"),
                            got: format!("{other:?}"),
                        });
                    }
                    shape.clone()
                }
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
            let n = out.iter().try_fold(1usize, |a, d| a.checked_mul(*d));
            if n.is_none_or(|n| n > crate::spec::MAX_LEN) {
                return Err(CoreError::Unsupported(format!(
                    "node {} ({}) yields a tensor of shape {out:?}, over {} values",
                    node.name,
                    node.op.kind(),
                    crate::spec::MAX_LEN
                )));
            }
            shapes.push(out);
        }
        if self.output >= shapes.len() {
            return Err(CoreError::Unsupported(format!(
                "output value {} does not exist",
                self.output
            )));
        }
        Ok(shapes)
    }

    /// Shape of the model output.
    pub fn output_shape(&self) -> Result<Vec<usize>, CoreError> {
        Ok(self.shapes()?.swap_remove(self.output))
    }

    /// Float forward pass (the model as exported).
    pub fn eval_f32(&self, input: &[f32]) -> Result<Vec<f32>, CoreError> {
        if input.len() != self.input_len() {
            return Err(CoreError::InputLength {
                expected: self.input_len(),
                got: input.len(),
            });
        }
        self.shapes()?;
        let mut values: Vec<Vec<f32>> = vec![input.to_vec()];
        for node in &self.nodes {
            let x = &values[node.inputs[0]];
            let y = match &node.op {
                Op::Dense(d) => d.eval(x),
                Op::Conv2d(c) => c.eval(x),
                Op::Pool(p) => p.eval(x),
                Op::Relu => x.iter().map(|v| v.max(0.0)).collect(),
                Op::Activation(f) => x
                    .iter()
                    .map(|v| crate::function::eval(*f, *v as f64) as f32)
                    .collect(),
                Op::Reshape(_) => x.clone(),
                Op::Gather(g) => {
                    let ins: Vec<&[f32]> = node.inputs.iter().map(|v| &values[*v][..]).collect();
                    g.eval(&ins)
                }
                Op::Mul => x
                    .iter()
                    .zip(&values[node.inputs[1]])
                    .map(|(a, b)| a * b)
                    .collect(),
                Op::MatMul(mm) => mm.eval(x, &values[node.inputs[1]]),
                Op::Add | Op::Sub => {
                    let sign = if node.op == Op::Sub { -1.0 } else { 1.0 };
                    x.iter()
                        .zip(&values[node.inputs[1]])
                        .map(|(a, b)| a + sign * b)
                        .collect()
                }
            };
            values.push(y);
        }
        Ok(values.swap_remove(self.output))
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
        dilation: [1, 1],
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
