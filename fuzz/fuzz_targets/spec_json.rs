//! Spec parsing and validation never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = zkinfer::ModelSpec::from_json(data);
});
