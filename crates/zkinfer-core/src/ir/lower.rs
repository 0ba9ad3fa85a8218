//! Lowering a float graph to the layer chain the circuit proves: dense layers with an optional
//! fused ReLU. Shape-only nodes vanish (they are wiring).

use super::{Dense, Graph, Op};
use crate::CoreError;

/// A dense layer with its activation, as the circuit lays it out.
#[derive(Clone, Debug, PartialEq)]
pub struct FloatLayer {
    /// Name of the dense node it came from.
    pub name: String,
    /// The affine map.
    pub dense: Dense,
    /// Whether a ReLU follows.
    pub relu: bool,
}

/// Fuses `Dense (Reshape)* Relu?` groups; rejects chains the circuit cannot express.
pub fn lower(graph: &Graph) -> Result<Vec<FloatLayer>, CoreError> {
    graph.shapes()?;
    let mut layers: Vec<FloatLayer> = Vec::new();
    // Whether the current value is the raw output of the last dense layer (a ReLU may fuse).
    let mut fusable = false;
    for node in &graph.nodes {
        match &node.op {
            Op::Dense(d) => {
                layers.push(FloatLayer {
                    name: node.name.clone(),
                    dense: d.clone(),
                    relu: false,
                });
                fusable = true;
            }
            Op::Relu => match layers.last_mut() {
                Some(layer) if fusable => {
                    layer.relu = true;
                    fusable = false;
                }
                Some(_) => {} // ReLU of a ReLU output is the identity.
                None => {
                    return Err(CoreError::Unsupported(format!(
                        "Relu node {} applies to the model input; only ReLU after a dense layer is supported",
                        node.name
                    )))
                }
            },
            Op::Reshape(_) => {}
        }
    }
    if layers.is_empty() {
        return Err(CoreError::Unsupported(
            "the model has no dense layer (Gemm or MatMul)".into(),
        ));
    }
    Ok(layers)
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
