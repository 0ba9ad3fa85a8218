//! Lowering a float graph to the layers the circuit proves: dense, convolution, pooling and
//! addition layers, each with an optional fused ReLU. Shape-only nodes vanish (they are wiring).
//!
//! Layer values are numbered like graph values: 0 is the model input, `j + 1` the output of
//! layer `j`; the last layer's output is the model output.

use super::{Conv2d, Dense, Gather, Graph, MatMul, Op, Pool, PoolKind};
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
    /// Elementwise sum of one or two values, or the difference of two with `subtract` (one
    /// value: a pass-through that carries a standalone activation).
    Add {
        /// Subtract the second value instead of adding it.
        subtract: bool,
    },
    /// Wiring (and public constants).
    Gather(Gather),
    /// Elementwise product of two values.
    Mul,
    /// Product of two activation matrices.
    MatMul(MatMul),
}

impl LayerOp {
    /// Whether the layer rescales its result (so an activation can be fused into it).
    pub fn rescales(&self) -> bool {
        !matches!(
            self,
            LayerOp::Gather(_)
                | LayerOp::Pool(Pool {
                    kind: PoolKind::Max,
                    ..
                })
        )
    }
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
            LayerOp::Gather(g) => g.eval(inputs),
            LayerOp::Mul => {
                let y = inputs.get(1).copied().unwrap_or(&[]);
                x.iter().zip(y).map(|(a, b)| a * b).collect()
            }
            LayerOp::MatMul(mm) => mm.eval(x, inputs.get(1).copied().unwrap_or(&[])),
            LayerOp::Add { subtract } => (0..x.len())
                .map(|e| {
                    inputs
                        .iter()
                        .enumerate()
                        .map(|(k, v)| {
                            let sign = if *subtract && k == 1 { -1.0 } else { 1.0 };
                            sign * v.get(e).copied().unwrap_or(0.0)
                        })
                        .sum()
                })
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
                    Some(f) => crate::function::eval(f, v as f64) as f32,
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
            Op::Add => LayerOp::Add { subtract: false },
            Op::Sub => LayerOp::Add { subtract: true },
            Op::Gather(g) => LayerOp::Gather(g.clone()),
            Op::Mul => LayerOp::Mul,
            Op::MatMul(mm) => LayerOp::MatMul(*mm),
            Op::Reshape(_) => {
                alias[i + 1] = alias[node.inputs[0]];
                continue;
            }
            Op::Activation(f) => {
                let v = alias[node.inputs[0]];
                let fusable = v > 0 && uses[root[node.inputs[0]]] == 1;
                alias[i + 1] = match layers.get_mut(v.wrapping_sub(1)) {
                    Some(l) if fusable && l.function.is_none() && !l.relu && l.op.rescales() => {
                        l.function = Some(*f);
                        v
                    }
                    _ => pass_through(
                        &mut layers,
                        &mut layer_input,
                        node,
                        v,
                        root[node.inputs[0]],
                        false,
                        Some(*f),
                    ),
                };
                continue;
            }
            Op::Relu => {
                alias[i + 1] = relu_into(
                    &mut layers,
                    &mut layer_input,
                    &uses,
                    node,
                    alias[node.inputs[0]],
                    root[node.inputs[0]],
                );
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
    let mut output = alias[graph.output];
    if output == 0 {
        // Only wiring: pass the input through one layer so the output is proved.
        let node = super::Node {
            name: "output".into(),
            op: Op::Add,
            inputs: vec![0],
        };
        output = pass_through(
            &mut layers,
            &mut layer_input,
            &node,
            0,
            root[graph.output],
            false,
            None,
        );
    }
    if output != layers.len() {
        return Err(CoreError::Unsupported(
            "the model output must be the result of its last layer".into(),
        ));
    }
    Ok(layers)
}

/// Applies a ReLU to layer value `value`; returns the layer value holding the result. A max
/// pool commutes with ReLU, so a ReLU after one moves onto the layer before it.
fn relu_into(
    layers: &mut Vec<FloatLayer>,
    layer_input: &mut Vec<usize>,
    uses: &[usize],
    node: &super::Node,
    value: usize,
    graph_value: usize,
) -> usize {
    let fusable = value > 0 && uses[graph_value] == 1;
    match layers.get(value.wrapping_sub(1)) {
        Some(l) if l.relu && l.function.is_none() => value, // ReLU of a ReLU output.
        Some(l) if fusable && l.function.is_none() && !matches!(l.op, LayerOp::Gather(_)) => {
            let mut target = value - 1;
            if let LayerOp::Pool(Pool {
                kind: PoolKind::Max,
                ..
            }) = l.op
            {
                let src = l.sources[0];
                let movable = |l: &FloatLayer| l.op.rescales() && l.function.is_none();
                if src == 0 || uses[layer_input[target]] != 1 || !movable(&layers[src - 1]) {
                    return pass_through(layers, layer_input, node, value, graph_value, true, None);
                }
                target = src - 1;
            }
            layers[target].relu = true;
            value
        }
        _ => pass_through(layers, layer_input, node, value, graph_value, true, None),
    }
}

/// A layer that passes `value` through to carry an activation that cannot be fused.
fn pass_through(
    layers: &mut Vec<FloatLayer>,
    layer_input: &mut Vec<usize>,
    node: &super::Node,
    value: usize,
    graph_value: usize,
    relu: bool,
    function: Option<crate::spec::Function>,
) -> usize {
    layers.push(FloatLayer {
        name: node.name.clone(),
        op: LayerOp::Add { subtract: false },
        relu,
        function,
        sources: vec![value],
    });
    layer_input.push(graph_value);
    layers.len()
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
            batch: 1,
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
    fn relu_on_input_passes_through_and_bad_shapes_are_refused() {
        // A ReLU on the input gets a pass-through layer of its own.
        let g = Graph::chain(
            vec![1, 4],
            vec![node("r", Op::Relu), node("fc", dense(4, 2))],
        );
        let layers = lower(&g).unwrap();
        assert!(
            layers[0].op == (LayerOp::Add { subtract: false })
                && layers[0].relu
                && layers[0].sources == vec![0]
        );
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
            output_parts: Vec::new(),
        };
        let layers = lower(&g).unwrap();
        assert_eq!(layers.len(), 4);
        assert!(layers[0].relu);
        assert_eq!(layers[2].sources, vec![2, 1]);
        // A ReLU whose input is also read elsewhere is not fused: it gets its own layer.
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
            output_parts: Vec::new(),
        };
        let layers = lower(&g).unwrap();
        assert!(!layers[0].relu);
        assert!(
            layers[1].op == (LayerOp::Add { subtract: false })
                && layers[1].relu
                && layers[1].sources == vec![1]
        );
    }
}
