//! Verifies zkinfer proofs from the public spec alone: no weights, no ONNX, no prover.
//!
//! [`Verifier::new`] rebuilds the verifying key from the spec (key generation is
//! deterministic) and checks its fingerprint; [`Verifier::verify`] checks a proof bundle and
//! returns the dequantized outputs and the weight commitment the proof is bound to.

use halo2_proofs::pasta::{EqAffine, Fp};
use halo2_proofs::plonk::{verify_proof, BatchVerifier, SingleVerifier, VerifyingKey};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Blake2bRead, Challenge255};
use thiserror::Error;

use zkinfer_core::artifacts::ProofBundle;
use zkinfer_core::circuit::{instances, CircuitPlan};
use zkinfer_core::digest::hex;
use zkinfer_core::field::from_bytes;
use zkinfer_core::params::ParamsStore;
use zkinfer_core::progress::{run_stage, Progress, Silent, Stage};
use zkinfer_core::quant::dequantize;
use zkinfer_core::spec::{ModelSpec, FORMAT_VERSION};
use zkinfer_core::{keys, CoreError, VALUE_MAX, VALUE_MIN};

pub use zkinfer_core::spec;

/// Why a spec could not be loaded or a proof was rejected.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The spec is malformed or out of bounds.
    #[error("spec: {0}")]
    Spec(CoreError),
    /// Parameters could not be loaded or generated.
    #[error("parameters: {0}")]
    Params(CoreError),
    /// The verifying key rebuilt from the spec differs from the one the spec names.
    #[error(
        "verifying key fingerprint: the spec names {expected}, this build's circuit for it is \
         {got} (a spec compiled by another version of zkinfer must be compiled again)"
    )]
    Fingerprint {
        /// From the spec.
        expected: String,
        /// Rebuilt.
        got: String,
    },
    /// The bundle bytes are malformed.
    #[error("{0}")]
    Bundle(CoreError),
    /// The bundle was made for another spec.
    #[error("the proof bundle was made for spec {got}, not {expected}")]
    SpecDigest {
        /// This spec's digest.
        expected: String,
        /// The bundle's.
        got: String,
    },
    /// Wrong number of public values.
    #[error("{what}: expected {expected} values, got {got}")]
    Length {
        /// Inputs, outputs or proof bytes.
        what: &'static str,
        /// Expected count.
        expected: usize,
        /// Count found.
        got: usize,
    },
    /// A public value out of its range (8-bit, or 16-bit for a wide output).
    #[error("{what}[{index}] = {value} is outside [{min}, {max}]")]
    Range {
        /// Inputs or outputs.
        what: &'static str,
        /// Index.
        index: usize,
        /// Value.
        value: i64,
        /// Smallest value allowed.
        min: i64,
        /// Largest value allowed.
        max: i64,
    },
    /// The proof does not verify.
    #[error("invalid proof: {0}")]
    InvalidProof(String),
}

impl VerifyError {
    /// Whether the error rejects a proof bundle (as opposed to a bad spec or environment).
    pub fn is_rejection(&self) -> bool {
        !matches!(
            self,
            VerifyError::Spec(_) | VerifyError::Params(_) | VerifyError::Fingerprint { .. }
        )
    }
}

/// What a valid proof establishes.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedOutput {
    /// Number of inferences the proof covers (inputs and outputs are concatenated).
    pub batch: usize,
    /// Dequantized outputs (flat, row-major; one output tensor per inference, in order).
    pub outputs: Vec<f64>,
    /// Quantized outputs.
    pub quantized_outputs: Vec<i64>,
    /// Quantized inputs the proof is about.
    pub quantized_inputs: Vec<i64>,
    /// The weight commitment the proof is bound to (hex).
    pub weights_commitment: String,
}

/// A verifier for one model spec.
#[derive(Debug)]
pub struct Verifier {
    spec: ModelSpec,
    digest: [u8; 32],
    commitment: Fp,
    params: Params<EqAffine>,
    vk: VerifyingKey<EqAffine>,
    proof_len: keys::ProofLength,
}

impl Verifier {
    /// A verifier using the default parameter cache.
    pub fn new(spec: &ModelSpec) -> Result<Self, VerifyError> {
        Self::with_store(spec, &ParamsStore::default(), &Silent)
    }

    /// A verifier using `store` for parameters.
    pub fn with_store(
        spec: &ModelSpec,
        store: &ParamsStore,
        progress: &dyn Progress,
    ) -> Result<Self, VerifyError> {
        let plan = CircuitPlan::validated(spec).map_err(VerifyError::Spec)?;
        let commitment_bytes = spec.commitment_bytes().map_err(VerifyError::Spec)?;
        let commitment = from_bytes(commitment_bytes).ok_or_else(|| {
            VerifyError::Spec(CoreError::InvalidSpec(
                "weights_commitment is not a field element".into(),
            ))
        })?;
        let params = store.load(plan.k, progress).map_err(VerifyError::Params)?;
        let vk = run_stage(progress, Stage::KeyGeneration, || {
            keys::verifying_key(&params, &plan)
        })
        .map_err(VerifyError::Spec)?;
        let got = hex(&keys::fingerprint(&vk));
        if got != spec.vk_fingerprint {
            return Err(VerifyError::Fingerprint {
                expected: spec.vk_fingerprint.clone(),
                got,
            });
        }
        Ok(Verifier {
            spec: spec.clone(),
            digest: spec.digest(),
            commitment,
            params,
            vk,
            proof_len: keys::proof_len(&plan),
        })
    }

    /// The spec.
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// Expected length in bytes of a proof of one inference.
    pub fn proof_len(&self) -> usize {
        self.proof_len.single
    }

    /// Expected length in bytes of a proof of `circuits` circuits (each proves the spec's
    /// `circuit.batch` inferences).
    pub fn batch_proof_len(&self, circuits: usize) -> usize {
        self.proof_len.of_batch(circuits)
    }

    /// Parses and verifies bundle bytes.
    pub fn verify_bytes(&self, bytes: &[u8]) -> Result<VerifiedOutput, VerifyError> {
        let bundle = ProofBundle::from_bytes(bytes).map_err(VerifyError::Bundle)?;
        self.verify(&bundle)
    }

    /// Parses and verifies many bundles' bytes, one verdict each, in order: bytes that do not
    /// parse are rejected alone, the rest are verified together ([`Verifier::verify_many`]).
    pub fn verify_many_bytes<B: AsRef<[u8]>>(
        &self,
        files: &[B],
    ) -> Vec<Result<VerifiedOutput, VerifyError>> {
        let mut verdicts = Vec::with_capacity(files.len());
        let mut bundles = Vec::with_capacity(files.len());
        for f in files {
            match ProofBundle::from_bytes(f.as_ref()) {
                Ok(b) => {
                    bundles.push(b);
                    verdicts.push(None);
                }
                Err(e) => verdicts.push(Some(Err(VerifyError::Bundle(e)))),
            }
        }
        let mut checked = self.verify_many(&bundles).into_iter();
        verdicts
            .into_iter()
            .map(|v| {
                v.or_else(|| checked.next())
                    .unwrap_or_else(|| Err(VerifyError::InvalidProof("missing verdict".into())))
            })
            .collect()
    }

    /// Verifies a bundle; on success returns the outputs and the weight commitment.
    pub fn verify(&self, bundle: &ProofBundle) -> Result<VerifiedOutput, VerifyError> {
        let publics = self.check(bundle)?;
        let columns: Vec<[&[Fp]; 1]> = publics.iter().map(|p| [&p[..]]).collect();
        let instances: Vec<&[&[Fp]]> = columns.iter().map(|c| &c[..]).collect();
        let mut transcript =
            Blake2bRead::<_, EqAffine, Challenge255<EqAffine>>::init(&bundle.proof[..]);
        verify_proof(
            &self.params,
            &self.vk,
            SingleVerifier::new(&self.params),
            &instances,
            &mut transcript,
        )
        .map_err(|e| VerifyError::InvalidProof(format!("{e:?}")))?;
        Ok(self.output(bundle))
    }

    /// Verifies many bundles, one verdict each. The proofs that pass the structural checks are
    /// verified together with halo2's batch verifier (one multi-scalar multiplication for all
    /// of them); only if that fails is each verified alone, to tell which are invalid.
    pub fn verify_many(&self, bundles: &[ProofBundle]) -> Vec<Result<VerifiedOutput, VerifyError>> {
        let checked: Vec<Result<Vec<Vec<Fp>>, VerifyError>> =
            bundles.iter().map(|b| self.check(b)).collect();
        let mut batch = BatchVerifier::new();
        let mut any = false;
        for (bundle, public) in bundles.iter().zip(&checked) {
            if let Ok(public) = public {
                let instances = public.iter().map(|p| vec![p.clone()]).collect();
                batch.add_proof(instances, bundle.proof.clone());
                any = true;
            }
        }
        let all_valid = any && batch.finalize(&self.params, &self.vk);
        bundles
            .iter()
            .zip(checked)
            .map(|(bundle, public)| match public {
                Err(e) => Err(e),
                Ok(_) if all_valid => Ok(self.output(bundle)),
                Ok(_) => self.verify(bundle),
            })
            .collect()
    }

    /// The structural checks of a bundle; returns the public instance of each inference.
    fn check(&self, bundle: &ProofBundle) -> Result<Vec<Vec<Fp>>, VerifyError> {
        if bundle.format_version != FORMAT_VERSION {
            return Err(VerifyError::Bundle(CoreError::Format {
                what: "proof bundle",
                detail: format!(
                    "format_version {} (expected {FORMAT_VERSION})",
                    bundle.format_version
                ),
            }));
        }
        if bundle.spec_digest != self.digest {
            return Err(VerifyError::SpecDigest {
                expected: hex(&self.digest),
                got: hex(&bundle.spec_digest),
            });
        }
        // One circuit proves `copies` inferences; a proof holds one or more circuits.
        let copies = self.spec.circuit.batch.max(1);
        let (input_len, output_len) = (
            self.spec.input.len() * copies,
            self.spec.output.len() * copies,
        );
        let circuits = batch_size(bundle.inputs.len(), input_len)?;
        let inputs = VALUE_MIN..=VALUE_MAX;
        check_values("inputs", &bundle.inputs, circuits * input_len, inputs)?;
        let outputs = self.spec.output_range();
        check_values("outputs", &bundle.outputs, circuits * output_len, outputs)?;
        let expected = self.proof_len.of_batch(circuits);
        if bundle.proof.len() != expected {
            return Err(VerifyError::Length {
                what: "proof bytes",
                expected,
                got: bundle.proof.len(),
            });
        }
        Ok(bundle
            .inputs
            .chunks(input_len)
            .zip(bundle.outputs.chunks(output_len))
            .map(|(x, y)| instances(self.commitment, x, y))
            .collect())
    }

    fn output(&self, bundle: &ProofBundle) -> VerifiedOutput {
        VerifiedOutput {
            batch: bundle.inputs.len() / self.spec.input.len().max(1),
            outputs: dequantize(&bundle.outputs, self.spec.output.scale),
            quantized_outputs: bundle.outputs.clone(),
            quantized_inputs: bundle.inputs.clone(),
            weights_commitment: self.spec.weights_commitment.clone(),
        }
    }
}

/// The number of circuits a bundle with `inputs` input values covers: a whole multiple of
/// one circuit's input length, from 1 to [`keys::MAX_BATCH`].
fn batch_size(inputs: usize, input_len: usize) -> Result<usize, VerifyError> {
    let batch = inputs / input_len.max(1);
    if batch == 0 || batch > keys::MAX_BATCH || batch * input_len != inputs {
        let expected = input_len * batch.clamp(1, keys::MAX_BATCH);
        return Err(VerifyError::Length {
            what: "inputs (whole circuits of inferences, at most 64 per proof)",
            expected,
            got: inputs,
        });
    }
    Ok(batch)
}

fn check_values(
    what: &'static str,
    values: &[i64],
    expected: usize,
    range: std::ops::RangeInclusive<i64>,
) -> Result<(), VerifyError> {
    if values.len() != expected {
        return Err(VerifyError::Length {
            what,
            expected,
            got: values.len(),
        });
    }
    match values.iter().enumerate().find(|(_, v)| !range.contains(*v)) {
        Some((index, value)) => Err(VerifyError::Range {
            what,
            index,
            value: *value,
            min: *range.start(),
            max: *range.end(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_size_counts_whole_inferences() {
        assert_eq!(batch_size(64, 64).ok(), Some(1));
        assert_eq!(batch_size(64 * 8, 64).ok(), Some(8));
        assert!(batch_size(0, 64).is_err());
        assert!(batch_size(65, 64).is_err());
        assert!(batch_size(64 * (keys::MAX_BATCH + 1), 64).is_err());
        // The message names the limit.
        assert_eq!(keys::MAX_BATCH, 64);
    }
}
