//! `zkinfer`: compile ONNX models, prove inferences, verify proofs.
//!
//! Exit codes: 0 success / valid proof, 1 invalid proof, 2 bad input.

mod eval;
mod memory;
mod progress;
mod prove;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use zkinfer::core::circuit::Layout;
use zkinfer::core::cost::CostModel;
use zkinfer::core::quant::{split_samples, Width};
use zkinfer::core::salt::Salt;
use zkinfer::core::spec::Visibility;
use zkinfer::prover::CompileOptions;
use zkinfer::{
    compile_with, join_inputs, onnx, read_input_json, CompiledModel, ModelSpec, ParamsStore,
    Verifier,
};

use progress::Bars;

#[derive(Parser, Debug)]
#[command(
    name = "zkinfer",
    version,
    about = "Zero-knowledge proofs of neural-network inference"
)]
struct Cli {
    /// Parameter cache directory (default: $ZKINFER_PARAMS_DIR or ~/.cache/zkinfer/params).
    #[arg(long, global = true)]
    params_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Quantize and compile an ONNX model; writes the private .zkm and the public spec.
    Compile {
        /// The ONNX model.
        model: PathBuf,
        /// Calibration samples (EZKL input JSON).
        #[arg(long)]
        calibration: PathBuf,
        /// Output compiled model (.zkm, private: holds the weights).
        #[arg(long)]
        out: PathBuf,
        /// Output public spec (JSON; it holds the weights only with `--weights public`).
        #[arg(long)]
        spec: PathBuf,
        /// `private` (default): the weights stay in the .zkm, the spec publishes a Poseidon
        /// commitment to them. `public`: the spec carries the weights and the circuit holds
        /// them in fixed columns (nothing hashed; for models whose weights are public).
        #[arg(long, default_value = "private", value_parser = parse_visibility)]
        weights: Visibility,
        /// Bits of the activations: `8`, `16` (every layer with no activation or ReLU, and the
        /// max pools of its values, 16-bit and unsaturated: more accurate on deep models, at
        /// two rescale rows per value) or `auto` (default: 16 if the cost model predicts it
        /// proves within 15% of the 8-bit model's time).
        #[arg(long, default_value = "auto", value_parser = parse_width)]
        activations: Width,
        /// Inferences one circuit proves side by side (the weights laid out and hashed once);
        /// `prove` then takes inputs in multiples of this.
        #[arg(long, default_value_t = 1, conflicts_with = "inferences")]
        batch: usize,
        /// Column layout `GxL`: G MAC input groups, L Poseidon lanes, `Gx0` for public weights;
        /// `GxLwW` for W weights per MAC row, `GxLpK` for patch rows of K-wide convolutions,
        /// `GxLt` for tile rows (default: the layout the cost model predicts fastest).
        #[arg(long, value_parser = parse_layout)]
        layout: Option<Layout>,
        /// Plan for proving this many inferences per proof: the cost model picks the
        /// inferences per circuit (`--batch`) and the layout that prove them fastest.
        #[arg(long)]
        inferences: Option<usize>,
        /// The commitment's secret salt (a field element's 32 little-endian bytes, 64 hex
        /// digits), to reproduce a commitment; default: a fresh random salt. It is kept in the
        /// .zkm, never in the spec.
        #[arg(long, value_parser = parse_salt)]
        salt: Option<Salt>,
        /// Held-out samples (EZKL input JSON, with `"labels"` for accuracy) to report the
        /// quantized model's error and agreement on, as `eval` does.
        #[arg(long)]
        held_out: Option<PathBuf>,
    },
    /// Run the quantized model (exactly what the circuit proves) on many samples without
    /// proving: per-output error against the float model, prediction agreement and, with
    /// labels, the accuracy of both.
    Eval {
        /// The compiled model (.zkm).
        model: PathBuf,
        /// The ONNX model it was compiled from (the float reference).
        #[arg(long)]
        onnx: PathBuf,
        /// Samples (EZKL input JSON, several samples back to back).
        #[arg(long)]
        input: PathBuf,
        /// Labels: a JSON array of integers, or a file with a `"labels"` array (default: the
        /// input file's `"labels"`, if it has them).
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Print the report as one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Prove one inference, several in one proof, or one proof per input file with the
    /// proving key built once.
    Prove {
        /// The compiled model (.zkm).
        model: PathBuf,
        /// Input files (EZKL input JSON), or directories of them (their `*.json` files, in
        /// name order). Each file is proved on its own; an array holding several inputs back to
        /// back proves all of those inferences in one proof.
        #[arg(long, num_args = 1.., required = true)]
        input: Vec<PathBuf>,
        /// Output proof bundle; with several input files (or a directory), a directory that
        /// receives one bundle per input file, `NAME.bin`.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify proof bundles against a public spec; prints the outputs as JSON, one line per
    /// proof. The verifying key is rebuilt once for all of them, and several proofs are
    /// checked together (one batch verification).
    Verify {
        /// The public spec.
        spec: PathBuf,
        /// The proof bundles.
        #[arg(required = true)]
        proofs: Vec<PathBuf>,
    },
}

/// A failure with its exit code.
struct Failure {
    code: u8,
    message: String,
}

fn bad(message: impl std::fmt::Display) -> Failure {
    Failure {
        code: 2,
        message: message.to_string(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| bad(format!("{}: {e}", path.display())))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes).map_err(|e| bad(format!("{}: {e}", path.display())))
}

/// The values of an input file (one array per model input) as one flat array of samples.
fn input_values(path: &Path, input_len: usize) -> Result<Vec<f32>, Failure> {
    let arrays =
        read_input_json(&read(path)?).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    join_inputs(arrays, input_len).map_err(|e| bad(format!("{}: {e}", path.display())))
}

fn run(cli: Cli) -> Result<(), Failure> {
    let store = cli.params_dir.map(ParamsStore::new).unwrap_or_default();
    let bars = Bars::default();
    match cli.command {
        Command::Compile {
            model,
            calibration,
            out,
            spec,
            weights,
            activations,
            batch,
            layout,
            inferences,
            salt,
            held_out,
        } => {
            let graph = onnx::load(&model).map_err(bad)?;
            let samples = split_samples(
                &input_values(&calibration, graph.input_len())?,
                graph.input_len(),
            )
            .map_err(bad)?;
            let name = model
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (batch, layout) = match inferences {
                None => (batch, layout),
                Some(n) => {
                    let options = CompileOptions {
                        visibility: weights,
                        width: activations,
                        ..CompileOptions::default()
                    };
                    let (model, _) =
                        zkinfer::prover::quantize_with(&name, &graph, &samples, options)
                            .map_err(bad)?;
                    let (s, p) = CostModel::default()
                        .plan_batch(&model.spec, n)
                        .map_err(bad)?;
                    let planned = Layout::of(&s.circuit);
                    println!(
                        "plan       {n} inferences: {} per circuit, {} circuit(s) at k = {}, layout {planned}, predicted create_proof {:.1} s",
                        s.circuit.batch, p.circuits, p.k, p.create_proof_s
                    );
                    (s.circuit.batch, Some(layout.unwrap_or(planned)))
                }
            };
            let options = CompileOptions {
                batch,
                layout,
                visibility: weights,
                width: activations,
            };
            let mut compiled =
                compile_with(&name, &graph, &samples, options, &store, &bars).map_err(bad)?;
            if let Some(salt) = salt {
                compiled.model = compiled.model.with_salt(salt);
            }
            write(&out, &compiled.to_bytes())?;
            write(&spec, compiled.model.spec.to_json().as_bytes())?;
            print_summary(&compiled);
            eval::report("calibration", &graph, &compiled.model, &calibration, None)?;
            if let Some(path) = held_out {
                let labels = eval::labels(&path, None)?;
                let title = path.display().to_string();
                eval::report(&title, &graph, &compiled.model, &path, labels.as_deref())?;
            }
            Ok(())
        }
        Command::Eval {
            model,
            onnx,
            input,
            labels,
            json,
        } => eval::run(&model, &onnx, &input, labels.as_deref(), json),
        Command::Prove { model, input, out } => prove::run(&model, &input, &out, &store, &bars),
        Command::Verify { spec, proofs } => {
            let spec = ModelSpec::from_json(&read(&spec)?)
                .map_err(|e| bad(format!("{}: {e}", spec.display())))?;
            let files = proofs
                .iter()
                .map(|p| read(p))
                .collect::<Result<Vec<_>, _>>()?;
            let start = Instant::now();
            let verifier = Verifier::with_store(&spec, &store, &bars).map_err(bad)?;
            let keyed = Instant::now();
            let verdicts = verifier.verify_many_bytes(&files);
            let done = Instant::now();
            eprintln!(
                "verifying key rebuilt in {:.3} s; {} proof(s) checked in {:.3} s",
                (keyed - start).as_secs_f64(),
                files.len(),
                (done - keyed).as_secs_f64()
            );
            let mut failure = None;
            for (path, verdict) in proofs.iter().zip(verdicts) {
                let mut json = match verdict {
                    Ok(v) => serde_json::json!({
                        "valid": true,
                        "batch": v.batch,
                        "outputs": outputs_json(&spec, &v.outputs),
                        "weights_commitment": v.weights_commitment,
                        "spec_digest": zkinfer::core::digest::hex(&spec.digest()),
                    }),
                    Err(e) if proofs.len() == 1 => {
                        return Err(Failure {
                            code: 1,
                            message: e.to_string(),
                        })
                    }
                    Err(e) => {
                        let message = format!("{}: {e}", path.display());
                        eprintln!("invalid: {message}");
                        failure = Some(Failure { code: 1, message });
                        serde_json::json!({ "valid": false, "error": e.to_string() })
                    }
                };
                if proofs.len() > 1 {
                    json["proof"] = path.display().to_string().into();
                }
                println!("{json}");
            }
            failure.map_or(Ok(()), Err)
        }
    }
}

fn print_summary(c: &CompiledModel) {
    let s = &c.model.spec;
    let plan = zkinfer::core::circuit::CircuitPlan::from_spec(s);
    let rows = plan.rows(s);
    let mut cs = zkinfer::core::circuit::column_counts(plan.layout);
    cs.rows = rows.max();
    println!("model      {}", s.name);
    if s.circuit.batch > 1 {
        println!("batch      {} inferences per circuit", s.circuit.batch);
    }
    println!(
        "k          {} ({} rows used of {}: mac {}, rescale {}, commitment {}, table {})",
        s.circuit.k,
        rows.max(),
        1u64 << s.circuit.k,
        rows.mac,
        rows.rescale,
        rows.commitment,
        rows.table
    );
    println!(
        "columns    {} advice ({} with copies), {} fixed, {} instance, {} lookups; layout {} ({} MAC groups, {} hash lanes, {} weights per MAC row, {} rescale lanes)",
        cs.advice,
        cs.equality,
        cs.fixed,
        cs.instance,
        cs.lookups,
        plan.layout,
        plan.layout.mac_groups,
        plan.layout.hash_lanes,
        plan.layout.mac_width,
        plan.layout.rescale_lanes()
    );
    println!(
        "input      shape {:?}, scale 2^-{}",
        s.input.shape, s.input.scale
    );
    for (i, l) in s.layers.iter().enumerate() {
        let kind = l.kind.name();
        let err = c
            .calibration
            .layer_max_abs_error
            .get(i)
            .copied()
            .unwrap_or(0.0);
        let top = l.channel_scales.iter().copied().max().unwrap_or(0);
        let span = |base: i64| match top {
            0 => base.to_string(),
            _ => format!("{base}..{}", base + top as i64),
        };
        println!(
            "layer {i}    {} ({kind}) {}->{} weights 2^-{} output 2^-{} {}-bit shift {} {:?}, max |err| {err:.4}",
            l.name,
            l.inputs,
            l.outputs,
            span(l.weight_scale as i64),
            l.output_scale,
            if l.wide { 16 } else { 8 },
            span(s.layer_shift(i)),
            l.activation
        );
    }
    let model = CostModel::default();
    let p = model.predict(s, 1);
    println!(
        "predicted  prove {:.1} s (keys {:.1} s + create_proof {:.1} s), peak RSS {:.0} MB, proof {} bytes; {} inference(s) per circuit fit k = {}",
        p.prove_s(),
        p.keygen_s,
        p.create_proof_s,
        p.peak_rss_bytes / 1e6,
        model.proof_bytes(s, 1),
        model.free_batch(s),
        s.circuit.k
    );
    if let Some(w) = memory::warning(p.peak_rss_bytes, memory::machine_bytes()) {
        eprintln!("{w}");
    }
    match s.circuit.public_weights() {
        true => println!("weights    public: in the spec and the verifying key"),
        false => println!("commitment {}", s.weights_commitment),
    }
    println!("vk         {}", s.vk_fingerprint);
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// Parses a commitment salt from hex.
fn parse_salt(s: &str) -> Result<Salt, String> {
    Salt::from_hex(s).map_err(|e| e.to_string())
}

/// Parses a layout `GxL` (MAC input groups x Poseidon lanes) or `GxLwW` (`W` weights per
/// MAC row).
fn parse_visibility(s: &str) -> Result<Visibility, String> {
    s.parse()
}

fn parse_width(s: &str) -> Result<Width, String> {
    s.parse()
}

fn parse_layout(s: &str) -> Result<Layout, String> {
    let layout: Layout = s.parse()?;
    if !layout.is_supported() {
        return Err(format!("layout {s:?} is not one of {}", Layout::menu()));
    }
    Ok(layout)
}

/// The outputs of a verified bundle as JSON: one array per inference, or (a model with
/// several outputs) per inference one array per output.
fn outputs_json(spec: &ModelSpec, outputs: &[f64]) -> serde_json::Value {
    let per = spec.output.len().max(1);
    let split = |inference: &[f64]| -> serde_json::Value {
        if spec.output_parts.is_empty() {
            return serde_json::json!(inference);
        }
        let mut rest = inference;
        let parts: Vec<&[f64]> = spec
            .output_parts
            .iter()
            .map(|p| {
                let (part, tail) = rest.split_at(p.iter().product::<usize>().min(rest.len()));
                rest = tail;
                part
            })
            .collect();
        serde_json::json!(parts)
    };
    serde_json::Value::Array(outputs.chunks(per).map(split).collect())
}
