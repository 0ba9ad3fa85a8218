//! Compiling a float model into a committed quantized model, and proving inferences.
//!
//! [`compile`] calibrates, quantizes, plans the circuit, commits to the weights and records
//! the verifying-key fingerprint. [`Prover`] holds the proving key of one compiled model and
//! turns inputs into [`ProofBundle`]s. [`accuracy::measure`] runs the quantized model
//! against the float one without proving.

pub mod accuracy;

use halo2_proofs::pasta::EqAffine;
use halo2_proofs::plonk::ProvingKey;
use halo2_proofs::poly::commitment::Params;

use zkinfer_core::artifacts::{CompiledModel, ProofBundle};
use zkinfer_core::circuit::{CircuitPlan, Layout, ModelCircuit};
use zkinfer_core::cost::CostModel;
use zkinfer_core::digest::hex;
use zkinfer_core::eval::Trace;
use zkinfer_core::ir::{lower, Graph};
use zkinfer_core::model::QuantModel;
use zkinfer_core::params::ParamsStore;
use zkinfer_core::progress::{run_stage, Progress, Stage};
use zkinfer_core::quant::{calibrate_with, quantize_input, CalibrationReport, Width, AUTO_BUDGET};
use zkinfer_core::spec::{ModelSpec, Visibility, FORMAT_VERSION};
use zkinfer_core::{keys, CoreError};

/// Quantizes a float graph: lowering, calibration on `samples`, circuit plan (`k`) and weight
/// commitment, without key generation (the spec's `vk_fingerprint` stays empty). Enough to run
/// the integer evaluator; [`compile`] adds the fingerprint a verifier needs.
pub fn quantize(
    name: &str,
    graph: &Graph,
    samples: &[Vec<f32>],
) -> Result<(QuantModel, CalibrationReport), CoreError> {
    quantize_batched(name, graph, samples, 1)
}

/// [`quantize`] for a circuit proving `batch` inferences side by side (the spec's
/// `circuit.batch`; `k` is picked for all of them).
pub fn quantize_batched(
    name: &str,
    graph: &Graph,
    samples: &[Vec<f32>],
    batch: usize,
) -> Result<(QuantModel, CalibrationReport), CoreError> {
    let options = CompileOptions {
        batch,
        ..CompileOptions::default()
    };
    quantize_with(name, graph, samples, options)
}

/// How a model is compiled: inferences per circuit, column layout, weight visibility and
/// activation width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompileOptions {
    /// Inferences one circuit proves side by side (the spec's `circuit.batch`).
    pub batch: usize,
    /// Column layout (`None`: the one the cost model predicts fastest among those of
    /// `visibility`).
    pub layout: Option<Layout>,
    /// Private weights (committed) or public weights (in the spec and the verifying key).
    pub visibility: Visibility,
    /// 8-bit activations, 16-bit ones wherever the circuit can hold them, or 16-bit ones where
    /// they are predicted to cost little ([`Width::Auto`]).
    pub width: Width,
}

impl Default for CompileOptions {
    /// One inference per circuit, the planner's layout, private weights, activation width
    /// [`Width::Auto`].
    fn default() -> Self {
        CompileOptions {
            batch: 1,
            layout: None,
            visibility: Visibility::Private,
            width: Width::Auto,
        }
    }
}

/// [`quantize`] with `options`: inferences per circuit, column layout, weight visibility.
pub fn quantize_with(
    name: &str,
    graph: &Graph,
    samples: &[Vec<f32>],
    options: CompileOptions,
) -> Result<(QuantModel, CalibrationReport), CoreError> {
    let CompileOptions {
        batch,
        layout,
        visibility,
        width,
    } = options;
    if !(1..=keys::MAX_BATCH).contains(&batch) {
        return Err(CoreError::Unsupported(format!(
            "a circuit batch of {batch} (1 to {} allowed)",
            keys::MAX_BATCH
        )));
    }
    let layers = lower(graph)?;
    let output_shape = graph.output_shape()?;
    let quantize = |width: Width| -> Result<(QuantModel, CalibrationReport), CoreError> {
        let mut quantized = calibrate_with(
            name,
            &layers,
            &graph.input_shape,
            &output_shape,
            samples,
            width,
        )?;
        quantized.spec.circuit.batch = batch;
        quantized.spec.output_parts = graph.output_parts.clone();
        let calibration = quantized.report.clone();
        let model = QuantModel::from_quantized_in(quantized, layout, visibility)?;
        Ok((model, calibration))
    };
    if width != Width::Auto {
        return quantize(width);
    }
    let narrow = quantize(Width::Narrow)?;
    match quantize(Width::Wide) {
        Ok(wide) if wide.0.spec.has_wide() && cheap_enough(&wide.0, &narrow.0) => Ok(wide),
        _ => Ok(narrow),
    }
}

/// Whether `wide` is predicted to prove within [`AUTO_BUDGET`] times `narrow`'s time.
fn cheap_enough(wide: &QuantModel, narrow: &QuantModel) -> bool {
    let cost = CostModel::default();
    let time = |m: &QuantModel| cost.predict(&m.spec, 1).prove_s();
    time(wide) <= AUTO_BUDGET * time(narrow)
}

/// Compiles a float graph: [`quantize`], then the verifying-key fingerprint.
pub fn compile(
    name: &str,
    graph: &Graph,
    samples: &[Vec<f32>],
    store: &ParamsStore,
    progress: &dyn Progress,
) -> Result<CompiledModel, CoreError> {
    compile_batched(name, graph, samples, 1, store, progress)
}

/// [`compile`] for a circuit proving `batch` inferences side by side: the weights are laid
/// out and hashed once for all of them.
pub fn compile_batched(
    name: &str,
    graph: &Graph,
    samples: &[Vec<f32>],
    batch: usize,
    store: &ParamsStore,
    progress: &dyn Progress,
) -> Result<CompiledModel, CoreError> {
    let options = CompileOptions {
        batch,
        ..CompileOptions::default()
    };
    compile_with(name, graph, samples, options, store, progress)
}

/// [`compile`] with `options`: inferences per circuit, column layout, weight visibility.
pub fn compile_with(
    name: &str,
    graph: &Graph,
    samples: &[Vec<f32>],
    options: CompileOptions,
    store: &ParamsStore,
    progress: &dyn Progress,
) -> Result<CompiledModel, CoreError> {
    let (model, calibration) = quantize_with(name, graph, samples, options)?;
    let model = with_fingerprint(model, store, progress)?;
    CircuitPlan::validated(&model.spec)?;
    Ok(CompiledModel { model, calibration })
}

/// Sets the spec's verifying-key fingerprint: builds the verifying key of the model's plan
/// (what [`compile_with`] does after quantizing, and what a model quantized or laid out in
/// code needs before [`Prover::new`] accepts it).
pub fn with_fingerprint(
    mut model: QuantModel,
    store: &ParamsStore,
    progress: &dyn Progress,
) -> Result<QuantModel, CoreError> {
    let plan = CircuitPlan::from_spec(&model.spec);
    let params = store.load(plan.k, progress)?;
    let vk = run_stage(progress, Stage::KeyGeneration, || {
        keys::verifying_key(&params, &plan)
    })?;
    model.spec.vk_fingerprint = hex(&keys::fingerprint(&vk));
    Ok(model)
}

/// Proves inferences of one compiled model.
#[derive(Debug)]
pub struct Prover {
    model: QuantModel,
    params: Params<EqAffine>,
    pk: ProvingKey<EqAffine>,
}

impl Prover {
    /// Loads parameters and builds the proving key; checks it against the spec's fingerprint.
    pub fn new(
        model: QuantModel,
        store: &ParamsStore,
        progress: &dyn Progress,
    ) -> Result<Self, CoreError> {
        let plan = CircuitPlan::validated(&model.spec)?;
        model.weights.check(&model.spec)?;
        let params = store.load(plan.k, progress)?;
        let pk = run_stage(
            progress,
            Stage::KeyGeneration,
            || -> Result<_, CoreError> {
                let vk = keys::verifying_key(&params, &plan)?;
                let got = hex(&keys::fingerprint(&vk));
                if got != model.spec.vk_fingerprint {
                    return Err(CoreError::InvalidSpec(format!(
                        "verifying key fingerprint {got} differs from the spec's {} (a model \
                         compiled by another version of zkinfer must be compiled again)",
                        model.spec.vk_fingerprint
                    )));
                }
                keys::proving_key(&params, vk, &plan)
            },
        )?;
        Ok(Prover { model, params, pk })
    }

    /// The public spec.
    pub fn spec(&self) -> &ModelSpec {
        &self.model.spec
    }

    /// Quantizes a float input and proves one inference.
    pub fn prove(
        &self,
        input: &[f32],
        progress: &dyn Progress,
    ) -> Result<(ProofBundle, Trace), CoreError> {
        let q = quantize_input(&self.model.spec.input, input)?;
        self.prove_quantized(&q, progress)
    }

    /// Proves one inference on an already quantized input.
    pub fn prove_quantized(
        &self,
        input: &[i64],
        progress: &dyn Progress,
    ) -> Result<(ProofBundle, Trace), CoreError> {
        let (bundle, mut traces) =
            self.prove_quantized_batch(std::slice::from_ref(&input.to_vec()), progress)?;
        let trace = traces
            .pop()
            .ok_or_else(|| CoreError::Unsupported("an empty batch of inputs".into()))?;
        Ok((bundle, trace))
    }

    /// Quantizes several float inputs and proves all their inferences in one proof.
    pub fn prove_batch(
        &self,
        inputs: &[Vec<f32>],
        progress: &dyn Progress,
    ) -> Result<(ProofBundle, Vec<Trace>), CoreError> {
        let q = inputs
            .iter()
            .map(|x| quantize_input(&self.model.spec.input, x))
            .collect::<Result<Vec<_>, _>>()?;
        self.prove_quantized_batch(&q, progress)
    }

    /// Proves the inferences of several quantized inputs in one proof. A spec compiled with
    /// `circuit.batch = n` proves `n` inferences side by side in one circuit (the weights laid
    /// out and hashed once); a proof holds one or more such circuits (one `create_proof` call:
    /// the domain, the vanishing argument and the opening are shared), so the number of inputs
    /// must be a multiple of `n`. The bundle's inputs and outputs are those of every
    /// inference, concatenated.
    pub fn prove_quantized_batch(
        &self,
        inputs: &[Vec<i64>],
        progress: &dyn Progress,
    ) -> Result<(ProofBundle, Vec<Trace>), CoreError> {
        let copies = self.model.spec.circuit.batch.max(1);
        if inputs.is_empty() || inputs.len() > keys::MAX_BATCH * copies {
            return Err(CoreError::Unsupported(format!(
                "a batch of {} inputs (one proof holds 1 to {} circuits of {copies})",
                inputs.len(),
                keys::MAX_BATCH
            )));
        }
        let parts = ModelCircuit::prove_batch(&self.model, inputs)?;
        let (mut circuits, mut publics, mut traces) = (Vec::new(), Vec::new(), Vec::new());
        for (circuit, public, trace) in parts {
            circuits.push(circuit);
            publics.push(public);
            traces.extend(trace);
        }
        let plan = CircuitPlan::from_spec(&self.model.spec);
        let proof = run_stage(progress, Stage::Proving, || {
            keys::prove(&self.params, &self.pk, &plan, &circuits, &publics)
        })?;
        drop(circuits);
        let bundle = ProofBundle {
            format_version: FORMAT_VERSION,
            spec_digest: self.model.spec.digest(),
            inputs: traces
                .iter()
                .flat_map(|t| t.input.iter().copied())
                .collect(),
            outputs: traces
                .iter()
                .flat_map(|t| t.output().iter().copied())
                .collect(),
            proof,
        };
        Ok((bundle, traces))
    }
}
