//! Tensors in a side file next to the model, as exporters write them: read when the model is
//! loaded from its file, confined to the model's folder and bounded.

use std::path::{Path, PathBuf};

use prost::Message;
mod common;

use common::value;
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, StringStringEntryProto, TensorProto,
};
use zkinfer_core::ir::Op;
use zkinfer_onnx::{load, load_bytes};

/// A float tensor whose bytes are at `offset` in the side file `location`.
fn external(name: &str, dims: &[i64], location: &str, offset: usize, len: usize) -> TensorProto {
    let entry = |key: &str, value: String| StringStringEntryProto {
        key: key.into(),
        value,
    };
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: 1,
        data_location: Some(1),
        external_data: vec![
            entry("location", location.into()),
            entry("offset", offset.to_string()),
            entry("length", len.to_string()),
        ],
        ..Default::default()
    }
}

/// A Gemm (2 → 3, transB) whose weights (24 bytes at offset 4096) and bias (12 bytes after
/// them) are in `location`.
fn gemm_model(location: &str) -> ModelProto {
    ModelProto {
        graph: Some(GraphProto {
            node: vec![NodeProto {
                op_type: "Gemm".into(),
                name: "fc".into(),
                input: vec!["x".into(), "w".into(), "b".into()],
                output: vec!["y".into()],
                attribute: vec![AttributeProto {
                    name: "transB".into(),
                    i: 1,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            initializer: vec![
                external("w", &[3, 2], location, 4096, 24),
                external("b", &[3], location, 4096 + 24, 12),
            ],
            input: vec![value("x", &[1, 2])],
            output: vec![value("y", &[1, 3])],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A folder holding `model.onnx` (side file `location`) and `weights.bin`.
fn folder(tag: &str, location: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zkinfer-ext-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut bytes = vec![0u8; 4096];
    for v in [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 0.5, 0.0, -0.5] {
        bytes.extend(v.to_le_bytes());
    }
    std::fs::write(dir.join("weights.bin"), bytes).unwrap();
    std::fs::write(dir.join("model.onnx"), gemm_model(location).encode_to_vec()).unwrap();
    dir
}

fn error(dir: &Path) -> String {
    load(dir.join("model.onnx")).unwrap_err().to_string()
}

#[test]
fn side_file_tensors_load_next_to_the_model() {
    let dir = folder("ok", "weights.bin");
    let g = load(dir.join("model.onnx")).unwrap();
    match &g.nodes[0].op {
        Op::Dense(d) => {
            assert_eq!(d.weights, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
            assert_eq!(d.bias, vec![0.5, 0.0, -0.5]);
        }
        other => panic!("expected Dense, got {other:?}"),
    }
    assert_eq!(g.eval_f32(&[1.0, 1.0]).unwrap(), vec![3.5, 7.0, 10.5]);
    // From memory there is no folder to read from: a clear error naming the tensor.
    let bytes = std::fs::read(dir.join("model.onnx")).unwrap();
    let msg = load_bytes(&bytes).unwrap_err().to_string();
    assert!(msg.contains("side file") && msg.contains('w'), "{msg}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn side_files_outside_the_model_folder_are_refused() {
    let outside = std::env::temp_dir().join(format!("zkinfer-ext-secret-{}", std::process::id()));
    std::fs::write(&outside, vec![7u8; 8192]).unwrap();
    let name = outside.file_name().unwrap().to_string_lossy().into_owned();
    for (tag, location) in [
        ("parent", format!("../{name}")),
        ("absolute", outside.display().to_string()),
        ("dotted", format!("./../{name}")),
        ("empty", String::new()),
    ] {
        let dir = folder(tag, &location);
        let msg = error(&dir);
        assert!(msg.contains("model's folder"), "{tag}: {msg}");
        std::fs::remove_dir_all(&dir).ok();
    }
    // A symbolic link inside the folder that points outside it.
    #[cfg(unix)]
    {
        let dir = folder("link", "link.bin");
        std::os::unix::fs::symlink(&outside, dir.join("link.bin")).unwrap();
        let msg = error(&dir);
        assert!(msg.contains("leaves the model's folder"), "{msg}");
        std::fs::remove_dir_all(&dir).ok();
    }
    std::fs::remove_file(&outside).ok();
}

#[test]
fn side_file_ranges_are_checked() {
    // Past the end of the file, a missing file and a huge length: errors, no allocation.
    let dir = folder("range", "weights.bin");
    let mut m = gemm_model("weights.bin");
    let w = &mut m.graph.as_mut().unwrap().initializer[0];
    w.external_data[1].value = "8000".into();
    std::fs::write(dir.join("model.onnx"), m.encode_to_vec()).unwrap();
    assert!(error(&dir).contains("outside"), "{}", error(&dir));
    let w = &mut m.graph.as_mut().unwrap().initializer[0];
    w.external_data[1].value = "0".into();
    w.external_data[2].value = u64::MAX.to_string();
    std::fs::write(dir.join("model.onnx"), m.encode_to_vec()).unwrap();
    assert!(error(&dir).contains("bound"), "{}", error(&dir));
    std::fs::remove_dir_all(&dir).ok();
    let dir = folder("missing", "nothing.bin");
    assert!(error(&dir).contains("nothing.bin"), "{}", error(&dir));
    std::fs::remove_dir_all(&dir).ok();
}
