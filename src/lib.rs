//! zkinfer: zero-knowledge proofs of quantized neural-network inference on halo2 (IPA over
//! Pasta, no trusted setup), with private weights bound to a public Poseidon commitment.
//!
//! ```no_run
//! use zkinfer::{compile, onnx, ParamsStore, Prover, Silent, Verifier};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let graph = onnx::load("circuits/mlp_digits/model.onnx")?;
//! let samples = vec![vec![0.5f32; graph.input_len()]];
//! let store = ParamsStore::default();
//! let compiled = compile("mlp", &graph, &samples, &store, &Silent)?;
//! let prover = Prover::new(compiled.model.clone(), &store, &Silent)?;
//! let (bundle, _trace) = prover.prove(&samples[0], &Silent)?;
//! // Anyone holding only the public spec:
//! let verified = Verifier::new(&compiled.model.spec)?.verify(&bundle)?;
//! println!("{:?} from weights {}", verified.outputs, verified.weights_commitment);
//! # Ok(())
//! # }
//! ```

pub use zkinfer_core as core;
pub use zkinfer_onnx as onnx;
pub use zkinfer_prover as prover;
pub use zkinfer_verifier as verifier;

pub use zkinfer_core::artifacts::{CompiledModel, ProofBundle};
pub use zkinfer_core::params::ParamsStore;
pub use zkinfer_core::progress::{Progress, Silent, Stage};
pub use zkinfer_core::salt::Salt;
pub use zkinfer_core::spec::ModelSpec;
pub use zkinfer_core::CoreError;
pub use zkinfer_prover::{compile, compile_batched, compile_with, Prover};
pub use zkinfer_verifier::{VerifiedOutput, Verifier, VerifyError};

/// Joins EZKL-style input arrays, one per model input in the graph's order and each holding
/// the same number of samples, into one flat array, sample by sample: the model input of a
/// graph with several inputs is their concatenation (see [`onnx`]). One array is returned as
/// it is.
pub fn join_inputs(mut arrays: Vec<Vec<f32>>, input_len: usize) -> Result<Vec<f32>, CoreError> {
    if arrays.len() == 1 {
        return Ok(arrays.remove(0));
    }
    let total: usize = arrays.iter().map(Vec::len).sum();
    if input_len == 0 || total == 0 || !total.is_multiple_of(input_len) {
        return Err(CoreError::InputLength {
            expected: input_len,
            got: total,
        });
    }
    let samples = total / input_len;
    if let Some(i) = arrays.iter().position(|a| !a.len().is_multiple_of(samples)) {
        return Err(CoreError::Format {
            what: "input JSON",
            detail: format!(
                "array {i} holds {} values, not a share of {samples} samples",
                arrays[i].len()
            ),
        });
    }
    let mut flat = Vec::with_capacity(total);
    for j in 0..samples {
        for a in &arrays {
            let n = a.len() / samples;
            flat.extend_from_slice(&a[j * n..(j + 1) * n]);
        }
    }
    Ok(flat)
}

/// Reads EZKL-style input JSON, `{"input_data": [[...]]}`: one flat row-major array per model
/// input (several samples may be concatenated in one array).
pub fn read_input_json(bytes: &[u8]) -> Result<Vec<Vec<f32>>, CoreError> {
    #[derive(serde::Deserialize)]
    struct InputFile {
        input_data: Vec<Vec<f64>>,
    }
    let f: InputFile = serde_json::from_slice(bytes).map_err(|e| CoreError::Format {
        what: "input JSON",
        detail: e.to_string(),
    })?;
    Ok(f.input_data
        .into_iter()
        .map(|v| v.into_iter().map(|x| x as f32).collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::join_inputs;

    #[test]
    fn joins_one_array_per_input_sample_by_sample() {
        // Two samples of a model with inputs of 2 and 1 values.
        let joined = join_inputs(vec![vec![1.0, 2.0, 3.0, 4.0], vec![10.0, 20.0]], 3).unwrap();
        assert_eq!(joined, vec![1.0, 2.0, 10.0, 3.0, 4.0, 20.0]);
        assert_eq!(join_inputs(vec![vec![1.0]], 3).unwrap(), vec![1.0]);
        assert!(join_inputs(vec![vec![1.0, 2.0], vec![3.0, 4.0]], 3).is_err());
        assert!(join_inputs(vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]], 3).is_err());
    }
}
