//! The MatMul + Add / Flatten / Reshape / Identity reference model: lowering, quantization
//! error, the circuit (MockProver), and a real proof with the soundness checks.

mod common;

use common::*;
use zkinfer::core::circuit::{ModelCircuit, NoEdit};
use zkinfer::core::quant::{dequantize, quantize_input};

#[test]
fn matmul_mlp_is_accurate_satisfies_the_circuit_and_proves() {
    let c = compiled("mlp_matmul");
    let spec = &c.model.spec;
    assert_eq!(spec.layers.len(), 2);
    assert_eq!(spec.input.shape, vec![1, 1, 10, 10]);
    let x = json_input("mlp_matmul", "input.json");
    let q = quantize_input(&spec.input, &x).unwrap();
    let (circuit, public, trace) = ModelCircuit::prove(&c.model, &q).unwrap();
    assert_eq!(
        circuit
            .mock_prover(std::sync::Arc::new(NoEdit), spec.circuit.k, public)
            .unwrap()
            .verify(),
        Ok(())
    );
    let out = dequantize(trace.output(), spec.output.scale);
    let exp = expected("mlp_matmul");
    let tol = tolerance(&exp, spec.output.scale);
    for (a, b) in out.iter().zip(&exp) {
        assert!((a - b).abs() <= tol, "{a} vs {b} (tolerance {tol})");
    }
    assert_eq!(argmax(&out), argmax(&exp));
    prove_and_verify(&c, &q);
}
