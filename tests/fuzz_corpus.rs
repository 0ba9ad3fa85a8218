//! Replays the committed fuzz corpus (`fuzz/corpus/`) through the fuzz targets' entry points
//! and adds seeded random mutations: spec parsing, ONNX loading and proof verification never
//! panic, and no mutation of a valid proof bundle is accepted. (`cargo +nightly fuzz run
//! <target>` in `fuzz/` explores further from the same corpus.)

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use zkinfer::core::testing::XorShift;
use zkinfer::{ModelSpec, Verifier};

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
}

/// A random mutation: bit flips, byte overwrites, truncation, appended bytes or a spliced copy.
fn mutate(rng: &mut XorShift, data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    let pick = |rng: &mut XorShift, n: usize| (rng.next_u64() % n.max(1) as u64) as usize;
    match rng.next_u64() % 5 {
        0 => {
            for _ in 0..1 + pick(rng, 4) {
                let i = pick(rng, d.len());
                if let Some(b) = d.get_mut(i) {
                    *b ^= 1 << pick(rng, 8);
                }
            }
        }
        1 => {
            let i = pick(rng, d.len());
            if let Some(b) = d.get_mut(i) {
                *b = rng.next_u64() as u8;
            }
        }
        2 => d.truncate(pick(rng, d.len())),
        3 => d.extend((0..1 + pick(rng, 64)).map(|_| rng.next_u64() as u8)),
        _ => {
            let (a, b) = (pick(rng, d.len()), pick(rng, d.len()));
            let (lo, hi) = (a.min(b), a.max(b));
            let chunk = d[lo..hi].to_vec();
            let at = pick(rng, d.len());
            d.splice(at..at, chunk);
        }
    }
    if d == data {
        d.push(0);
    }
    d
}

#[test]
fn spec_corpus_parses_without_panics() {
    let mut rng = XorShift::new(1);
    for (name, bytes) in corpus("spec_json") {
        assert!(ModelSpec::from_json(&bytes).is_ok(), "{name} must parse");
        for _ in 0..200 {
            let m = mutate(&mut rng, &bytes);
            assert!(
                catch_unwind(AssertUnwindSafe(|| ModelSpec::from_json(&m))).is_ok(),
                "panic on a mutation of {name}"
            );
        }
    }
}

#[test]
fn onnx_corpus_loads_without_panics() {
    let mut rng = XorShift::new(2);
    for (name, bytes) in corpus("onnx_model") {
        let _ = zkinfer::onnx::load_bytes(&bytes);
        for _ in 0..100 {
            let m = mutate(&mut rng, &bytes);
            assert!(
                catch_unwind(AssertUnwindSafe(|| zkinfer::onnx::load_bytes(&m))).is_ok(),
                "panic on a mutation of {name}"
            );
        }
    }
}

#[test]
fn no_mutation_of_a_valid_bundle_verifies() {
    let spec_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/specs/mlp_digits.json");
    let spec = ModelSpec::from_json(&std::fs::read(spec_path).unwrap()).unwrap();
    let verifier = Verifier::new(&spec).expect(
        "fuzz/specs/mlp_digits.json no longer matches the circuit: regenerate it and \
         fuzz/corpus/proof_bundle/valid.bin with `zkinfer compile` and `zkinfer prove` on circuits/mlp_digits",
    );
    let corpus = corpus("proof_bundle");
    let valid = &corpus.iter().find(|(n, _)| n == "valid.bin").unwrap().1;
    assert!(verifier.verify_bytes(valid).is_ok());
    let mut rng = XorShift::new(3);
    let mut rejected = 0;
    for _ in 0..200 {
        let m = mutate(&mut rng, valid);
        let verdict = catch_unwind(AssertUnwindSafe(|| verifier.verify_bytes(&m)))
            .unwrap_or_else(|_| panic!("panic on a mutated bundle"));
        assert!(verdict.is_err(), "a mutated bundle verified");
        rejected += 1;
    }
    assert_eq!(rejected, 200);
}
