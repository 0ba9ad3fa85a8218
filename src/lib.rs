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
