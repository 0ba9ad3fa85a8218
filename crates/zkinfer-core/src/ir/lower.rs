//! Lowering a float graph to the layers the circuit proves: dense, convolution, pooling and
//! addition layers, each with an optional fused ReLU. Shape-only nodes vanish (they are wiring).
//!
//! Layer values are numbered like graph values: 0 is the model input, `j + 1` the output of
//! layer `j`; the last layer's output is the model output.

use super::{Conv2d, Dense, Graph, Op, Pool, PoolKind};
use crate::CoreError;

/// The computation of a layer.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerOp {
    /// Fully connected.
    Dense(Dense),
    /// Convolution.
    Conv2d(Conv2d),
    /// Pooling.
    Pool(Pool),
    /// Elementwise sum of two values.
    Add,
}

/// A layer with its activation, as the circuit lays it out.
#[derive(Clone, Debug, PartialEq)]
pub struct FloatLayer {
    /// Name of the node it came from.
    pub name: String,
    /// The computation.
    pub op: LayerOp,
    /// Whether a ReLU follows.
    pub relu: bool,
    /// A table function applied to the result (after the ReLU, if any).
    pub function: Option<crate::spec::Function>,
    /// Layer values it reads.
    pub sources: Vec<usize>,
}

impl FloatLayer {
    /// Output before the activation, from the values of its sources.
    pub fn eval_pre(&self, inputs: &[&[f32]]) -> Vec<f32> {
        let x = inputs.first().copied().unwrap_or(&[]);
        match &self.op {
            LayerOp::Dense(d) => d.eval(x),
            LayerOp::Conv2d(c) => c.eval(x),
            LayerOp::Pool(p) => p.eval(x),
            LayerOp::Add => x
                .iter()
                .zip(inputs.get(1).copied().unwrap_or(&[]))
                .map(|(a, b)| a + b)
                .collect(),
        }
    }

    /// Output after the activation.
    pub fn eval(&self, inputs: &[&[f32]]) -> Vec<f32> {
        self.activate(self.eval_pre(inputs))
    }

    /// Applies the layer's activation.
    pub fn activate(&self, pre: Vec<f32>) -> Vec<f32> {
        pre.into_iter()
            .map(|v| {
                let v = if self.relu { v.max(0.0) } else { v };
                match self.function {
                    Some(f) => crate::quant::activation::eval(f, v as f64) as f32,
                    None => v,
                }
            })
            .collect()
    }
}

/// Float values of every layer (pre-activation, post-activation) for one input.
pub fn float_trace(layers: &[FloatLayer], input: &[f32]) -> Vec<(Vec<f32>, Vec<f32>)> {
    let mut values: Vec<Vec<f32>> = vec![input.to_vec()];
    let mut out = Vec::with_capacity(layers.len());
    for l in layers {
        let ins: Vec<&[f32]> = l.sources.iter().map(|s| &values[*s][..]).collect();
        let pre = l.eval_pre(&ins);
        let post = l.activate(pre.clone());
        values.push(post.clone());
        out.push((pre, post));
    }
    out
}

/// Lowers a graph; rejects graphs the circuit cannot express.
pub fn lower(graph: &Graph) -> Result<Vec<FloatLayer>, CoreError> {
    graph.shapes()?;
    let n = graph.nodes.len();
    // Resolve reshapes: the value a reshape output stands for.
    let mut root: Vec<usize> = (0..=n).collect();
    for (i, node) in graph.nodes.iter().enumerate() {
        if matches!(node.op, Op::Reshape(_)) {
            root[i + 1] = root[node.inputs[0]];
        }
    }
    let mut uses = vec![0usize; n + 1];
    for node in graph
        .nodes
        .iter()
        .filter(|n| !matches!(n.op, Op::Reshape(_)))
    {
        for v in &node.inputs {
            uses[root[*v]] += 1;
        }
    }
    uses[root[graph.output]] += 1;

    let mut layers: Vec<FloatLayer> = Vec::new();
    // Layer value of every graph value, and the graph value feeding each layer.
    let mut alias = vec![0usize; n + 1];
    let mut layer_input: Vec<usize> = Vec::new();
    for (i, node) in graph.nodes.iter().enumerate() {
        let op = match &node.op {
            Op::Dense(d) => LayerOp::Dense(d.clone()),
            Op::Conv2d(c) => LayerOp::Conv2d(c.clone()),
            Op::Pool(p) => LayerOp::Pool(p.clone()),
            Op::Add => LayerOp::Add,
            Op::Reshape(_) => {
                alias[i + 1] = alias[node.inputs[0]];
                continue;
            }
            Op::Activation(f) => {
                let v = alias[node.inputs[0]];
                let fusable = v > 0 && uses[root[node.inputs[0]]] == 1;
                match layers.get_mut(v.wrapping_sub(1)) {
                    Some(l) if fusable && l.function.is_none() && !l.relu => l.function = Some(*f),
                    _ => {
                        return Err(CoreError::Unsupported(format!(
                            "{:?} node {} must directly follow a layer whose result it alone reads",
                            f, node.name
                        )))
                    }
                }
                alias[i + 1] = v;
                continue;
            }
            Op::Relu => {
                alias[i + 1] = relu_into(
                    &mut layers,
                    &layer_input,
                    &uses,
                    node,
                    alias[node.inputs[0]],
                    root[node.inputs[0]],
                )?;
                continue;
            }
        };
        layers.push(FloatLayer {
            name: node.name.clone(),
            op,
            relu: false,
            function: None,
            sources: node.inputs.iter().map(|v| alias[*v]).collect(),
        });
        layer_input.push(root[node.inputs[0]]);
        alias[i + 1] = layers.len();
    }
    if !layers
        .iter()
        .any(|l| matches!(l.op, LayerOp::Dense(_) | LayerOp::Conv2d(_)))
    {
        return Err(CoreError::Unsupported(
            "the model has no weighted layer (Gemm, MatMul or Conv)".into(),
        ));
    }
    if alias[graph.output] != layers.len() {
        return Err(CoreError::Unsupported(
            "the model output must be the result of its last layer".into(),
        ));
    }
    Ok(layers)
}

/// Applies a ReLU to layer value `value`; returns the layer value holding the result. A max
/// pool commutes with ReLU, so a ReLU after one moves onto the layer before it.
fn relu_into(
    layers: &mut [FloatLayer],
    layer_input: &[usize],
    uses: &[usize],
    node: &super::Node,
    value: usize,
    graph_value: usize,
) -> Result<usize, CoreError> {
    let refuse = |why: &str| CoreError::Unsupported(format!("Relu node {}: {why}", node.name));
    if value == 0 {
        return Err(refuse(
            "applies to the model input; only ReLU after a layer is supported",
        ));
    }
    if layers[value - 1].relu && layers[value - 1].function.is_none() {
        return Ok(value); // ReLU of a ReLU output is the identity.
    }
    if layers[value - 1].function.is_some() {
        return Err(refuse(
            "follows a table activation (compose them in one table instead)",
        ));
    }
    if uses[graph_value] != 1 {
        return Err(refuse(
            "its input is also used elsewhere (a standalone ReLU is not supported)",
        ));
    }
    let mut target = value - 1;
    if let LayerOp::Pool(Pool {
        kind: PoolKind::Max,
        ..
    }) = layers[target].op
    {
        let src = layers[target].sources[0];
        if src == 0 || uses[layer_input[target]] != 1 {
            return Err(refuse(
                "follows a max pool whose input is the model input or is used elsewhere",
            ));
        }
        target = src - 1;
    }
    layers[target].relu = true;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Node;

    fn dense(i: usize, o: usize) -> Op {
        Op::Dense(Dense {
            inputs: i,
            outputs: o,
            weights: vec![0.5; i * o],
            bias: vec![0.0; o],
        })
    }

    fn node(name: &str, op: Op) -> (String, Op) {
        (name.into(), op)
    }

    #[test]
    fn fuses_relu_and_drops_reshapes() {
        let g = Graph::chain(
            vec![1, 2, 2],
            vec![
                node("flat", Op::Reshape(vec![1, 4])),
                node("fc1", dense(4, 3)),
                node("r", Op::Relu),
                node("fc2", dense(3, 2)),
            ],
        );
        let layers = lower(&g).unwrap();
        assert_eq!(layers.len(), 2);
        assert!(layers[0].relu);
        assert!(!layers[1].relu);
    }

    #[test]
    fn rejects_relu_on_input_and_bad_shapes() {
        let g = Graph::chain(
            vec![1, 4],
            vec![node("r", Op::Relu), node("fc", dense(4, 2))],
        );
        assert!(matches!(lower(&g), Err(CoreError::Unsupported(_))));
        let g = Graph::chain(vec![1, 5], vec![node("fc", dense(4, 2))]);
        assert!(matches!(lower(&g), Err(CoreError::ShapeMismatch { .. })));
    }

    #[test]
    fn residual_add_reads_two_layers_and_refuses_shared_relu() {
        // x -> fc1 -> relu -> fc2 ; add(fc2, relu1) -> fc3
        let g = Graph {
            input_shape: vec![1, 4],
            nodes: vec![
                Node {
                    name: "fc1".into(),
                    op: dense(4, 4),
                    inputs: vec![0],
                },
                Node {
                    name: "r1".into(),
                    op: Op::Relu,
                    inputs: vec![1],
                },
                Node {
                    name: "fc2".into(),
                    op: dense(4, 4),
                    inputs: vec![2],
                },
                Node {
                    name: "add".into(),
                    op: Op::Add,
                    inputs: vec![3, 2],
                },
                Node {
                    name: "fc3".into(),
                    op: dense(4, 2),
                    inputs: vec![4],
                },
            ],
            output: 5,
        };
        let layers = lower(&g).unwrap();
        assert_eq!(layers.len(), 4);
        assert!(layers[0].relu);
        assert_eq!(layers[2].sources, vec![2, 1]);
        // A ReLU whose input is also read elsewhere cannot be fused.
        let g = Graph {
            input_shape: vec![1, 4],
            nodes: vec![
                Node {
                    name: "fc1".into(),
                    op: dense(4, 4),
                    inputs: vec![0],
                },
                Node {
                    name: "r1".into(),
                    op: Op::Relu,
                    inputs: vec![1],
                },
                Node {
                    name: "add".into(),
                    op: Op::Add,
                    inputs: vec![1, 2],
                },
                Node {
                    name: "fc3".into(),
                    op: dense(4, 2),
                    inputs: vec![3],
                },
            ],
            output: 4,
        };
        assert!(matches!(lower(&g), Err(CoreError::Unsupported(_))));
    }
}
