//! Proof-bundle decoding and verification against a fixed spec never panic, and nothing but
//! the committed valid bundle is accepted unchanged.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use zkinfer::{ModelSpec, Verifier};

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let spec = ModelSpec::from_json(include_bytes!("../specs/mlp_digits.json"))
            .expect("the committed spec parses");
        Verifier::new(&spec).expect("the committed spec's verifying key")
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = verifier().verify_bytes(data);
});
