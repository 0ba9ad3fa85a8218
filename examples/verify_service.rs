//! An HTTP service that verifies proof bundles: it loads model specs at start (one verifier,
//! with its verifying key, per spec), verifies POSTed bundles and answers JSON.
//!
//! Serve specs written by `zkinfer compile`:
//!
//! ```text
//! cargo run --release --example verify_service -- serve --addr 127.0.0.1:8080 \
//!     --spec digits=/path/to/spec.json [--spec other=...]
//! ```
//!
//! Routes:
//! - `GET /models`: the loaded models (name, weight commitment, input and output lengths).
//! - `POST /verify/{model}`, body = proof bundle bytes: `{"valid": true, "outputs": [...],
//!   "weights_commitment": ...}` or `{"valid": false, "reason": ...}` (HTTP 200 either way).
//! - `POST /verify_batch/{model}`, body = bundles each prefixed by its length (u32, little
//!   endian): `{"verdicts": [...]}`, one verdict per bundle, checked with halo2's batch verifier.
//! - An unknown model is 404, a malformed batch body 400, a body over 16 MiB 413.
//!
//! Load test on loopback (bounded, stops by itself): compiles `circuits/mlp_digits`, makes valid
//! proofs and invalid variants, serves them from an ephemeral port and sends them from
//! concurrent clients; prints latency percentiles; exits 1 on any wrong verdict or lost request.
//!
//! ```text
//! cargo run --release --example verify_service -- load-test [--clients 8] [--requests 400]
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use zkinfer::{ModelSpec, ProofBundle, Verifier, VerifyError};

/// Largest request body.
const BODY_LIMIT: usize = 16 << 20;

/// Verifiers by model name.
type Models = Arc<HashMap<String, Arc<Verifier>>>;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn verdict(result: Result<zkinfer::VerifiedOutput, VerifyError>) -> Value {
    match result {
        Ok(v) => json!({
            "valid": true,
            "outputs": v.outputs,
            "weights_commitment": v.weights_commitment,
        }),
        Err(e) => json!({ "valid": false, "reason": e.to_string() }),
    }
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn unknown(name: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("unknown model {name}"))
}

async fn list(State(models): State<Models>) -> Json<Value> {
    let list: Vec<Value> = models
        .iter()
        .map(|(name, v)| {
            json!({
                "name": name,
                "weights_commitment": v.spec().weights_commitment,
                "input_len": v.spec().input.len(),
                "output_len": v.spec().output.len(),
            })
        })
        .collect();
    Json(json!({ "models": list }))
}

async fn verify_one(
    State(models): State<Models>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let Some(v) = models.get(&name).cloned() else {
        return unknown(&name);
    };
    match tokio::task::spawn_blocking(move || v.verify_bytes(&body)).await {
        Ok(result) => Json(verdict(result)).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Splits a batch body into bundles (each prefixed by its u32 little-endian length).
fn split_batch(mut body: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut parts = Vec::new();
    while !body.is_empty() {
        let (len, rest) = body
            .split_first_chunk::<4>()
            .ok_or("truncated length prefix")?;
        let len = u32::from_le_bytes(*len) as usize;
        if len > rest.len() {
            return Err(format!(
                "bundle of {len} bytes exceeds the {} left",
                rest.len()
            ));
        }
        let (part, rest) = rest.split_at(len);
        parts.push(part);
        body = rest;
    }
    Ok(parts)
}

async fn verify_batch(
    State(models): State<Models>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let Some(v) = models.get(&name).cloned() else {
        return unknown(&name);
    };
    let verdicts = tokio::task::spawn_blocking(move || -> Result<Vec<Value>, String> {
        let parts = split_batch(&body)?;
        Ok(v.verify_many_bytes(&parts)
            .into_iter()
            .map(verdict)
            .collect())
    })
    .await;
    match verdicts {
        Ok(Ok(v)) => Json(json!({ "verdicts": v })).into_response(),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// The service's routes over `models`.
fn router(models: Models) -> Router {
    Router::new()
        .route("/models", get(list))
        .route("/verify/{model}", post(verify_one))
        .route("/verify_batch/{model}", post(verify_batch))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(models)
}

fn flag(args: &[String], name: &str) -> Vec<String> {
    args.windows(2)
        .filter(|w| w[0] == name)
        .map(|w| w[1].clone())
        .collect()
}

fn number(args: &[String], name: &str, default: usize) -> Result<usize, Error> {
    match flag(args, name).last() {
        Some(v) => Ok(v.parse()?),
        None => Ok(default),
    }
}

async fn serve(args: &[String]) -> Result<(), Error> {
    let addr: SocketAddr = flag(args, "--addr")
        .last()
        .map(String::as_str)
        .unwrap_or("127.0.0.1:8080")
        .parse()?;
    let mut models = HashMap::new();
    for entry in flag(args, "--spec") {
        let (name, path) = entry
            .split_once('=')
            .ok_or("--spec takes name=path/to/spec.json")?;
        let spec = ModelSpec::from_json(&std::fs::read(path)?)?;
        let t = Instant::now();
        let v = Verifier::new(&spec)?;
        eprintln!(
            "loaded {name}: k = {}, verifying key rebuilt in {:.2} s",
            spec.circuit.k,
            t.elapsed().as_secs_f64()
        );
        models.insert(name.to_string(), Arc::new(v));
    }
    if models.is_empty() {
        return Err("no --spec given".into());
    }
    let listener = TcpListener::bind(addr).await?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router(Arc::new(models))).await?;
    Ok(())
}

/// One POST over a fresh connection; returns the status and the JSON body.
async fn post_once(addr: SocketAddr, path: &str, body: &[u8]) -> Result<(u16, Value), Error> {
    let mut stream = TcpStream::connect(addr).await?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .ok_or("empty response")?
        .parse()?;
    let json = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok((status, serde_json::from_str(json)?))
}

/// A request of the load test and the verdict it must get.
struct Case {
    body: Vec<u8>,
    valid: bool,
}

fn cases(bundles: &[ProofBundle]) -> Vec<Case> {
    let mut out = Vec::new();
    for (i, b) in bundles.iter().enumerate() {
        out.push(Case {
            body: b.to_bytes(),
            valid: true,
        });
        let mut changed = b.clone();
        let j = i % changed.outputs.len();
        changed.outputs[j] += 1;
        out.push(Case {
            body: changed.to_bytes(),
            valid: false,
        });
        let mut flipped = b.clone();
        let at = (i * 7919 + 13) % flipped.proof.len();
        flipped.proof[at] ^= 0x20;
        out.push(Case {
            body: flipped.to_bytes(),
            valid: false,
        });
    }
    out.push(Case {
        body: b"not a proof bundle".to_vec(),
        valid: false,
    });
    let mut truncated = bundles[0].to_bytes();
    truncated.truncate(truncated.len() / 2);
    out.push(Case {
        body: truncated,
        valid: false,
    });
    out
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

async fn load_test(args: &[String]) -> Result<bool, Error> {
    let clients = number(args, "--clients", 8)?;
    let requests = number(args, "--requests", 400)?;
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("circuits/mlp_digits");
    let (models, bundles) = tokio::task::spawn_blocking(move || -> Result<_, Error> {
        let store = zkinfer::ParamsStore::default();
        let graph = zkinfer::onnx::load(dir.join("model.onnx"))?;
        let calibration = zkinfer::read_input_json(&std::fs::read(dir.join("calibration.json"))?)?;
        let samples = zkinfer::core::quant::split_samples(&calibration[0], graph.input_len())?;
        let compiled = zkinfer::compile("digits", &graph, &samples, &store, &zkinfer::Silent)?;
        let prover = zkinfer::Prover::new(compiled.model.clone(), &store, &zkinfer::Silent)?;
        let bundles = samples
            .iter()
            .take(4)
            .map(|x| prover.prove(x, &zkinfer::Silent).map(|(b, _)| b))
            .collect::<Result<Vec<_>, _>>()?;
        let verifier = Verifier::with_store(&compiled.model.spec, &store, &zkinfer::Silent)?;
        let models: Models = Arc::new(HashMap::from([("digits".to_string(), Arc::new(verifier))]));
        Ok((models, bundles))
    })
    .await??;
    let cases = Arc::new(cases(&bundles));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, router(models)).await });
    println!(
        "load test: {requests} requests from {clients} clients to http://{addr}, {} kinds of bundle ({} valid)",
        cases.len(),
        cases.iter().filter(|c| c.valid).count()
    );
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let cases = cases.clone();
        let share = requests / clients + usize::from(c < requests % clients);
        tasks.push(tokio::spawn(async move {
            let mut results = Vec::with_capacity(share);
            for r in 0..share {
                let case = &cases[(c * 31 + r * 7) % cases.len()];
                let t = Instant::now();
                let answer = post_once(addr, "/verify/digits", &case.body).await;
                let correct = matches!(&answer, Ok((200, v)) if v["valid"] == json!(case.valid));
                results.push((t.elapsed(), answer.is_ok(), correct));
            }
            results
        }));
    }
    let mut latencies = Vec::new();
    let (mut answered, mut correct) = (0, 0);
    for t in tasks {
        for (latency, ok, right) in t.await? {
            latencies.push(latency);
            answered += usize::from(ok);
            correct += usize::from(right);
        }
    }
    let wall = started.elapsed().as_secs_f64();
    latencies.sort();
    // A batch of every kind of bundle in one request.
    let mut batch = Vec::new();
    for case in cases.iter() {
        batch.extend((case.body.len() as u32).to_le_bytes());
        batch.extend(&case.body);
    }
    let (status, body) = post_once(addr, "/verify_batch/digits", &batch).await?;
    let batch_right = status == 200
        && body["verdicts"].as_array().is_some_and(|v| {
            v.len() == cases.len()
                && v.iter()
                    .zip(cases.iter())
                    .all(|(got, case)| got["valid"] == json!(case.valid))
        });
    server.abort();
    println!(
        "sent {requests}, answered {answered}, correct verdicts {correct}; {:.1} requests/s",
        requests as f64 / wall
    );
    println!(
        "latency ms: p50 {:.1}, p90 {:.1}, p99 {:.1}, max {:.1}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0)
    );
    println!(
        "batch of {} bundles: verdicts correct: {batch_right}",
        cases.len()
    );
    Ok(answered == requests && correct == requests && batch_right)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(&args).await.map(|_| true),
        Some("load-test") => load_test(&args).await,
        _ => Err("usage: verify_service serve --spec name=spec.json [--addr host:port] | load-test [--clients N] [--requests N]".into()),
    };
    match result {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
