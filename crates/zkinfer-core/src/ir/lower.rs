//! Lowering a float graph to the layer chain the circuit proves: dense, convolution and pooling
//! layers, each with an optional fused ReLU. Shape-only nodes vanish (they are wiring).

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
}

impl FloatLayer {
    /// Output before the activation.
    pub fn eval_pre(&self, x: &[f32]) -> Vec<f32> {
        match &self.op {
            LayerOp::Dense(d) => d.eval(x),
            LayerOp::Conv2d(c) => c.eval(x),
            LayerOp::Pool(p) => p.eval(x),
        }
    }

    /// Output after the activation.
    pub fn eval(&self, x: &[f32]) -> Vec<f32> {
        let pre = self.eval_pre(x);
        if self.relu {
            pre.into_iter().map(|v| v.max(0.0)).collect()
        } else {
            pre
        }
    }

    /// Largest absolute weight (0 for pooling).
    pub fn max_abs_weight(&self) -> f32 {
        let w: &[f32] = match &self.op {
            LayerOp::Dense(d) => &d.weights,
            LayerOp::Conv2d(c) => &c.weights,
            LayerOp::Pool(_) => &[],
        };
        w.iter().fold(0.0, |m, v| m.max(v.abs()))
    }
}

/// Fuses `Layer (Reshape)* Relu?` groups; rejects chains the circuit cannot express.
pub fn lower(graph: &Graph) -> Result<Vec<FloatLayer>, CoreError> {
    graph.shapes()?;
    let mut layers: Vec<FloatLayer> = Vec::new();
    for node in &graph.nodes {
        let op = match &node.op {
            Op::Dense(d) => LayerOp::Dense(d.clone()),
            Op::Conv2d(c) => LayerOp::Conv2d(c.clone()),
            Op::Pool(p) => LayerOp::Pool(p.clone()),
            Op::Reshape(_) => continue,
            Op::Relu => {
                relu_into(&mut layers, &node.name)?;
                continue;
            }
        };
        layers.push(FloatLayer {
            name: node.name.clone(),
            op,
            relu: false,
        });
    }
    if !layers.iter().any(|l| !matches!(l.op, LayerOp::Pool(_))) {
        return Err(CoreError::Unsupported(
            "the model has no weighted layer (Gemm, MatMul or Conv)".into(),
        ));
    }
    Ok(layers)
}

/// Applies a ReLU to the chain's current output. A max pool commutes with ReLU, so a ReLU after
/// one moves onto the layer before it.
fn relu_into(layers: &mut [FloatLayer], name: &str) -> Result<(), CoreError> {
    let n = layers.len();
    let target = match layers.last() {
        Some(l) if l.relu => return Ok(()), // ReLU of a ReLU output is the identity.
        Some(FloatLayer {
            op:
                LayerOp::Pool(Pool {
                    kind: PoolKind::Max,
                    ..
                }),
            ..
        }) if n >= 2 => n - 2,
        Some(FloatLayer {
            op:
                LayerOp::Pool(Pool {
                    kind: PoolKind::Max,
                    ..
                }),
            ..
        }) => {
            return Err(CoreError::Unsupported(format!(
                "Relu node {name} follows a max pool of the model input"
            )))
        }
        Some(_) => n - 1,
        None => {
            return Err(CoreError::Unsupported(format!(
                "Relu node {name} applies to the model input; only ReLU after a layer is supported"
            )))
        }
    };
    layers[target].relu = true;
    Ok(())
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

    fn node(name: &str, op: Op) -> Node {
        Node {
            name: name.into(),
            op,
        }
    }

    #[test]
    fn fuses_relu_and_drops_reshapes() {
        let g = Graph {
            input_shape: vec![1, 2, 2],
            nodes: vec![
                node("flat", Op::Reshape(vec![1, 4])),
                node("fc1", dense(4, 3)),
                node("r", Op::Relu),
                node("fc2", dense(3, 2)),
            ],
        };
        let layers = lower(&g).unwrap();
        assert_eq!(layers.len(), 2);
        assert!(layers[0].relu);
        assert!(!layers[1].relu);
    }

    #[test]
    fn rejects_relu_on_input_and_bad_shapes() {
        let g = Graph {
            input_shape: vec![1, 4],
            nodes: vec![node("r", Op::Relu), node("fc", dense(4, 2))],
        };
        assert!(matches!(lower(&g), Err(CoreError::Unsupported(_))));
        let g = Graph {
            input_shape: vec![1, 5],
            nodes: vec![node("fc", dense(4, 2))],
        };
        assert!(matches!(lower(&g), Err(CoreError::ShapeMismatch { .. })));
    }
}
