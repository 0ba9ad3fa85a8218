//! `zkinfer prove`: one or many input files, with the proving key built once for all of them.

use std::path::{Path, PathBuf};
use std::time::Instant;

use zkinfer::core::cost::CostModel;
use zkinfer::core::quant::{dequantize, split_samples};
use zkinfer::{CompiledModel, ParamsStore, Prover};

use crate::progress::Bars;
use crate::{bad, input_values, read, write, Failure};

/// One input file and where its proof goes.
struct Job {
    input: PathBuf,
    out: PathBuf,
    samples: Vec<Vec<f32>>,
}

/// The input files `inputs` names (a directory stands for its `*.json` files, in name order).
fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    for path in inputs {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let entries =
            std::fs::read_dir(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        let mut jsons: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
            .collect();
        if jsons.is_empty() {
            return Err(bad(format!("{}: no .json input files", path.display())));
        }
        jsons.sort();
        files.extend(jsons);
    }
    Ok(files)
}

/// Pairs each input file with its bundle path: `out` itself for one input file, else
/// `out/NAME.bin` (the directory is created; two inputs of one name are refused).
fn plan(files: Vec<PathBuf>, out: &Path, single: bool) -> Result<Vec<(PathBuf, PathBuf)>, Failure> {
    if single {
        return Ok(files.into_iter().map(|f| (f, out.to_path_buf())).collect());
    }
    std::fs::create_dir_all(out).map_err(|e| bad(format!("{}: {e}", out.display())))?;
    let mut jobs: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(files.len());
    for f in files {
        let stem = f
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let dest = out.join(format!("{stem}.bin"));
        if let Some((other, _)) = jobs.iter().find(|(_, d)| *d == dest) {
            return Err(bad(format!(
                "{} and {} would both write {}",
                other.display(),
                f.display(),
                dest.display()
            )));
        }
        jobs.push((f, dest));
    }
    Ok(jobs)
}

/// Proves every input file (each file's inputs in one proof); the proving key is built once.
pub fn run(
    model: &Path,
    inputs: &[PathBuf],
    out: &Path,
    store: &ParamsStore,
    bars: &Bars,
) -> Result<(), Failure> {
    let compiled = CompiledModel::from_bytes(&read(model)?)
        .map_err(|e| bad(format!("{}: {e}", model.display())))?;
    let files = expand(inputs)?;
    let single = files.len() == 1 && inputs.len() == 1 && !inputs[0].is_dir();
    let input_len = compiled.model.spec.input.len();
    // Every input is read and checked before the key is built.
    let jobs = plan(files, out, single)?
        .into_iter()
        .map(|(input, out)| {
            let samples = split_samples(&input_values(&input, input_len)?, input_len)
                .map_err(|e| bad(format!("{}: {e}", input.display())))?;
            Ok(Job {
                input,
                out,
                samples,
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let start = Instant::now();
    let prover = Prover::new(compiled.model, store, bars).map_err(bad)?;
    let keys = start.elapsed();
    println!("proving key built in {:.2} s", keys.as_secs_f64());
    for job in &jobs {
        prove_one(&prover, job, bars)?;
    }
    if jobs.len() > 1 {
        println!(
            "{} proofs; proving key built once in {:.2} s, all done in {:.2} s",
            jobs.len(),
            keys.as_secs_f64(),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Proves one input file and writes its bundle.
fn prove_one(prover: &Prover, job: &Job, bars: &Bars) -> Result<(), Failure> {
    let spec = prover.spec();
    let start = Instant::now();
    let (bundle, _) = prover
        .prove_batch(&job.samples, bars)
        .map_err(|e| bad(format!("{}: {e}", job.input.display())))?;
    let elapsed = start.elapsed();
    write(&job.out, &bundle.to_bytes())?;
    for y in dequantize(&bundle.outputs, spec.output.scale).chunks(spec.output.len().max(1)) {
        println!("outputs: {y:?}");
    }
    let copies = spec.circuit.batch.max(1);
    let p = CostModel::default().predict(spec, job.samples.len().div_ceil(copies));
    println!(
        "predicted: create_proof {:.2} s, prove {:.2} s, peak RSS {:.0} MB",
        p.create_proof_s,
        p.prove_s(),
        p.peak_rss_bytes / 1e6
    );
    println!(
        "proof: {} inference(s), {} bytes in {:.2} s -> {}",
        job.samples.len(),
        bundle.proof.len(),
        elapsed.as_secs_f64(),
        job.out.display()
    );
    Ok(())
}
