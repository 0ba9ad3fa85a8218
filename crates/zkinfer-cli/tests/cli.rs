//! The CLI contract: compile / prove / verify and the exit codes 0, 1, 2.

use std::path::PathBuf;
use std::process::{Command, Output};

fn zkinfer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .output()
        .unwrap()
}

fn circuits(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../circuits")
        .join(rel)
        .display()
        .to_string()
}

/// Compiles the reference digit MLP to `zkm` and `spec` with `extra` arguments; requires
/// success and returns the command's standard output.
fn compile_digits(zkm: &str, spec: &str, extra: &[&str]) -> String {
    let (model, calibration) = (
        circuits("mlp_digits/model.onnx"),
        circuits("mlp_digits/calibration.json"),
    );
    let mut args = vec![
        "compile",
        &model,
        "--calibration",
        &calibration,
        "--out",
        zkm,
        "--spec",
        spec,
    ];
    args.extend(extra);
    let out = zkinfer(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn compile_prove_verify_and_exit_codes() {
    let dir = std::env::temp_dir().join(format!("zkinfer-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |f: &str| dir.join(f).display().to_string();

    let summary = compile_digits(&p("m.zkm"), &p("m.spec.json"), &[]);
    assert!(
        summary.contains("commitment") && summary.contains("calibration"),
        "{summary}"
    );

    let out = zkinfer(&[
        "prove",
        &p("m.zkm"),
        "--input",
        &circuits("mlp_digits/input.json"),
        "--out",
        &p("proof.bin"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = zkinfer(&["verify", &p("m.spec.json"), &p("proof.bin")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["outputs"][0].as_array().unwrap().len(), 10);
    assert_eq!(json["weights_commitment"].as_str().unwrap().len(), 64);

    // A corrupted proof: exit 1.
    let mut bytes = std::fs::read(p("proof.bin")).unwrap();
    let n = bytes.len();
    bytes[n - 40] ^= 0x10;
    std::fs::write(p("bad.bin"), &bytes).unwrap();
    assert_eq!(
        zkinfer(&["verify", &p("m.spec.json"), &p("bad.bin")])
            .status
            .code(),
        Some(1)
    );

    // Several proofs in one call: one JSON line each, exit 1 if any is invalid.
    let lines = |out: &Output| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let out = zkinfer(&[
        "verify",
        &p("m.spec.json"),
        &p("proof.bin"),
        &p("proof.bin"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let verdicts = lines(&out);
    assert_eq!(verdicts.len(), 2);
    assert!(verdicts
        .iter()
        .all(|v| v["valid"] == true && v["outputs"] == json["outputs"]));
    std::fs::write(p("garbage.bin"), b"not a bundle").unwrap();
    let out = zkinfer(&[
        "verify",
        &p("m.spec.json"),
        &p("proof.bin"),
        &p("bad.bin"),
        &p("garbage.bin"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let valid: Vec<_> = lines(&out).iter().map(|v| v["valid"] == true).collect();
    assert_eq!(valid, [true, false, false]);

    // Bad input: exit 2.
    std::fs::write(p("short.json"), r#"{"input_data": [[0.5, 0.5]]}"#).unwrap();
    let out = zkinfer(&[
        "prove",
        &p("m.zkm"),
        "--input",
        &p("short.json"),
        "--out",
        &p("x.bin"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64"));
    std::fs::write(
        p("nan.json"),
        format!(r#"{{"input_data": [[{}1e999]]}}"#, "0.5, ".repeat(63)),
    )
    .unwrap();
    let out = zkinfer(&[
        "prove",
        &p("m.zkm"),
        "--input",
        &p("nan.json"),
        "--out",
        &p("x.bin"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        zkinfer(&["verify", &p("missing.json"), &p("proof.bin")])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        zkinfer(&[
            "compile",
            &p("m.spec.json"),
            "--calibration",
            &p("short.json"),
            "--out",
            &p("a"),
            "--spec",
            &p("b")
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(zkinfer(&["frobnicate"]).status.code(), Some(2));
    let out = zkinfer(&[
        "compile",
        &circuits("unsupported_op/model.onnx"),
        "--calibration",
        &circuits("unsupported_op/calibration.json"),
        "--out",
        &p("a"),
        "--spec",
        &p("b"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Hardmax") && err.contains("wave"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn compile_salts_the_commitment_and_salt_reproduces_it() {
    let dir = std::env::temp_dir().join(format!("zkinfer-cli-salt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let commitment = |tag: &str, salt: Option<&str>| -> String {
        let spec = dir.join(format!("{tag}.spec.json")).display().to_string();
        let zkm = dir.join(format!("{tag}.zkm")).display().to_string();
        let extra: Vec<&str> = salt.map(|s| vec!["--salt", s]).unwrap_or_default();
        compile_digits(&zkm, &spec, &extra);
        let text = std::fs::read_to_string(&spec).unwrap();
        assert!(
            !text.contains(salt.unwrap_or("salt")),
            "the salt is not public"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["weights_commitment"].as_str().unwrap().to_string()
    };
    let salt = format!("{}00", "ab".repeat(31));
    let (a, b) = (commitment("a", Some(&salt)), commitment("b", Some(&salt)));
    assert_eq!(a, b, "the same salt gives the same commitment");
    assert_ne!(
        a,
        commitment("c", None),
        "a fresh salt gives another commitment"
    );
    assert_ne!(commitment("d", None), commitment("e", None));
    // Too short, or not a field element (at or above the modulus): usage errors.
    for salt in ["00".to_string(), "ff".repeat(32)] {
        let args = [
            "compile",
            "x.onnx",
            "--calibration",
            "x",
            "--out",
            "x",
            "--spec",
            "x",
        ];
        let out = zkinfer(&[&args[..], &["--salt", &salt]].concat());
        assert_eq!(out.status.code(), Some(2), "{salt}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn public_weights_go_into_the_spec_and_verify() {
    let dir = std::env::temp_dir().join(format!("zkinfer-cli-public-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |f: &str| dir.join(f).display().to_string();
    let summary = compile_digits(&p("m.zkm"), &p("m.json"), &["--weights", "public"]);
    assert!(summary.contains("weights    public"), "{summary}");
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("m.json")).unwrap()).unwrap();
    assert_eq!(spec["circuit"]["hash_lanes"], 0);
    assert_eq!(spec["public_weights"].as_array().map(Vec::len), Some(2));
    let input = circuits("mlp_digits/input.json");
    let out = zkinfer(&[
        "prove",
        &p("m.zkm"),
        "--input",
        &input,
        "--out",
        &p("m.bin"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = zkinfer(&["verify", &p("m.json"), &p("m.bin")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"valid\":true"));
    // A committed layout with public weights, or an unknown visibility: usage errors.
    let model = circuits("mlp_digits/model.onnx");
    for extra in [
        &["--weights", "public", "--layout", "1x1"][..],
        &["--weights", "open"],
    ] {
        let args = [
            "compile",
            &model,
            "--calibration",
            &input,
            "--out",
            "x",
            "--spec",
            "x",
        ];
        let out = zkinfer(&[&args[..], extra].concat());
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn prove_many_input_files_with_one_key() {
    let dir = std::env::temp_dir().join(format!("zkinfer-cli-many-{}", std::process::id()));
    let inputs = dir.join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let p = |f: &str| dir.join(f).display().to_string();
    compile_digits(&p("m.zkm"), &p("m.spec.json"), &[]);
    // Two input files from the calibration samples (64 values each).
    let cal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(circuits("mlp_digits/calibration.json")).unwrap())
            .unwrap();
    let values = cal["input_data"][0].as_array().unwrap();
    for (name, at) in [("a", 0), ("b", 64)] {
        let sample = serde_json::json!({ "input_data": [values[at..at + 64].to_vec()] });
        std::fs::write(inputs.join(format!("{name}.json")), sample.to_string()).unwrap();
    }
    let inputs = inputs.display().to_string();
    let out = zkinfer(&[
        "prove",
        &p("m.zkm"),
        "--input",
        &inputs,
        "--out",
        &p("proofs"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 proofs; proving key built once"), "{text}");
    let (a, b) = (p("proofs/a.bin"), p("proofs/b.bin"));
    let out = zkinfer(&["verify", &p("m.spec.json"), &a, &b]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 2);
    assert_ne!(lines[0], lines[1], "two inputs, two different proofs");
    // Two files of one name would overwrite each other's proof: refused before proving.
    let twice = format!("{inputs}/a.json");
    let out = zkinfer(&[
        "prove",
        &p("m.zkm"),
        "--input",
        &twice,
        &twice,
        "--out",
        &p("again"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    // A bad file among several is named, before any key is built.
    std::fs::write(dir.join("bad.json"), "{}").unwrap();
    let out = zkinfer(&[
        "prove",
        &p("m.zkm"),
        "--input",
        &twice,
        &p("bad.json"),
        "--out",
        &p("x"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_model_with_two_inputs_reads_one_array_per_input() {
    let dir = std::env::temp_dir().join(format!("zkinfer-cli-two-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |f: &str| dir.join(f).display().to_string();
    let (model, calibration, input) = (
        circuits("two_inputs/model.onnx"),
        circuits("two_inputs/calibration.json"),
        circuits("two_inputs/input.json"),
    );
    let (zkm, spec, proof) = (p("m.zkm"), p("m.spec.json"), p("proof.bin"));
    let ok = |args: &[&str]| {
        let out = zkinfer(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        out
    };
    ok(&[
        "compile",
        &model,
        "--calibration",
        &calibration,
        "--out",
        &zkm,
        "--spec",
        &spec,
    ]);
    ok(&["prove", &zkm, "--input", &input, "--out", &proof]);
    let out = ok(&["verify", &spec, &proof]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Logits and probabilities: one array each.
    let parts = json["outputs"][0].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert!(parts.iter().all(|p| p.as_array().unwrap().len() == 10));
    // One array where the model has two inputs: a clear error.
    std::fs::write(p("one.json"), r#"{"input_data": [[0.5, 0.5, 0.5]]}"#).unwrap();
    let out = zkinfer(&[
        "prove",
        &zkm,
        "--input",
        &p("one.json"),
        "--out",
        &p("x.bin"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

/// The percentage after `label` on the first line holding it.
fn percent_after(text: &str, label: &str) -> f64 {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("{label} in {text}"))
        + label.len();
    text[at..]
        .trim_start()
        .split('%')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a percentage after {label} in {text}"))
}

/// `zkinfer eval ZKM --onnx ONNX --input INPUT EXTRA...`.
fn eval(zkm: &str, onnx: &str, input: &str, extra: &[&str]) -> Output {
    let mut args = vec!["eval", zkm, "--onnx", onnx, "--input", input];
    args.extend(extra);
    zkinfer(&args)
}

#[test]
fn eval_reports_error_agreement_and_accuracy_without_proving() {
    let dir = std::env::temp_dir().join(format!("zkinfer-cli-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |f: &str| dir.join(f).display().to_string();
    let test = circuits("mlp_digits/test.json");
    let summary = compile_digits(&p("m.zkm"), &p("m.json"), &["--held-out", &test]);
    // The held-out report reads the file's labels.
    assert!(summary.contains("64 samples"), "{summary}");
    assert!(percent_after(&summary, "quantized") >= 90.0, "{summary}");

    let onnx = circuits("mlp_digits/model.onnx");
    let out = eval(&p("m.zkm"), &onnx, &test, &[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        percent_after(&text, "prediction agreement") >= 95.0,
        "{text}"
    );
    let (float, quantized) = (
        percent_after(&text, "accuracy: float"),
        percent_after(&text, "quantized"),
    );
    assert!(float >= 90.0 && (float - quantized).abs() <= 5.0, "{text}");

    // The same report as JSON.
    let out = eval(&p("m.zkm"), &onnx, &test, &["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["samples"], 64);
    assert_eq!(report["outputs"][0]["shape"], serde_json::json!([1, 10]));
    let share = report["labels"]["quantized"].as_f64().unwrap();
    assert!((share * 100.0 - quantized).abs() < 0.05, "{report}");
    // Labels from their own file; a mismatched count and malformed labels are exit 2.
    let with_labels = |labels: &str| {
        std::fs::write(p("labels.json"), labels).unwrap();
        let file = p("labels.json");
        eval(&p("m.zkm"), &onnx, &test, &["--labels", &file])
    };
    let out = with_labels("[1, 2, 3]");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 labels for 64 samples"));
    assert_eq!(
        with_labels("{\"labels\": \"seven\"}").status.code(),
        Some(2)
    );
    // Samples whose quantized values leave the range a rescale accepts (one and a half times the 8-bit range)
    // are counted, not compared: calibrated on images with one lit pixel, a bright image
    // overflows.
    let skl = circuits("skl_mlp/model.onnx");
    let lit: Vec<String> = (0..4 * 64)
        .map(|i| if i % 64 == (i / 64) * 9 { "16" } else { "0" }.to_string())
        .collect();
    let skl_cal = p("lit.json");
    std::fs::write(
        &skl_cal,
        format!("{{\"input_data\": [[{}]]}}", lit.join(", ")),
    )
    .unwrap();
    let args = [
        "compile",
        &skl,
        "--calibration",
        &skl_cal,
        "--out",
        &p("s.zkm"),
        "--spec",
        &p("s.json"),
    ];
    assert_eq!(zkinfer(&args).status.code(), Some(0));
    let bright = vec!["16"; 64];
    let first = p("first_lit.json");
    std::fs::write(
        &first,
        format!("{{\"input_data\": [[{}]]}}", lit[..64].join(", ")),
    )
    .unwrap();
    std::fs::write(
        p("bright.json"),
        format!("{{\"input_data\": [[{}]]}}", bright.join(", ")),
    )
    .unwrap();
    let out = eval(&p("s.zkm"), &skl, &p("bright.json"), &[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("overflow 1 sample(s)"), "{text}");
    let out = eval(&p("s.zkm"), &skl, &first, &[]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("overflow"));
    // An ONNX model that is not the compiled one is refused.
    let other = circuits("two_inputs/model.onnx");
    let out = eval(&p("m.zkm"), &other, &test, &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
