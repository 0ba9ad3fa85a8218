//! A model with two inputs and two outputs (digit halves in, logits and probabilities out),
//! joined by Concat and flattened by TorchScript-style shape arithmetic: folding, accuracy
//! against onnxruntime and the float model, the circuit, and a real proof with the soundness
//! checks.

mod common;

use common::*;
use zkinfer::core::ir::Op;

#[test]
fn two_input_two_output_model_folds_is_accurate_and_proves() {
    let g = graph("two_inputs");
    assert_eq!(g.input_shape, vec![64]);
    assert!(
        g.nodes
            .iter()
            .all(|n| !matches!(n.op, Op::Activation(_)) || n.name.contains("Softmax")),
        "{:?}",
        g.nodes.iter().map(|n| &n.name).collect::<Vec<_>>()
    );
    let c = compiled("two_inputs");
    assert_eq!(c.model.spec.input.len(), 64);
    assert_eq!(c.model.spec.output.len(), 20);
    assert_eq!(c.model.spec.output_parts, vec![vec![1, 10], vec![1, 10]]);
    let mut wrong = c.model.spec.clone();
    wrong.output_parts[1] = vec![1, 9];
    assert!(
        wrong.validate().is_err(),
        "output parts that do not hold the output validated"
    );
    let q = check_accuracy("two_inputs", &c, 95);
    prove_and_verify(&c, &q);
}
