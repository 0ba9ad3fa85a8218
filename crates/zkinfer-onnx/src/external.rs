//! External tensor data: tensors whose bytes sit in a side file next to the model (what
//! exporters write for all but tiny models), read into the tensor before lowering.
//!
//! A hostile model must not read other files: a location must be a relative path of plain
//! components that resolves (symbolic links followed) inside the model's folder, and every
//! tensor is bounded to [`MAX_LEN`] values of at most 8 bytes, inside its file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use tract_onnx::pb::{ModelProto, TensorProto};
use zkinfer_core::spec::MAX_LEN;

use crate::OnnxError;

/// `data_location` of a tensor stored in a side file.
const EXTERNAL: i32 = 1;

/// Largest side-file segment one tensor may read.
const MAX_TENSOR_BYTES: u64 = 8 * MAX_LEN as u64;

/// Whether a tensor's bytes are in a side file.
pub fn is_external(t: &TensorProto) -> bool {
    t.data_location == Some(EXTERNAL)
}

/// Reads every external initializer and `Constant` tensor of `model` from the folder `dir`
/// into its `raw_data`.
pub fn inline(model: &mut ModelProto, dir: &Path) -> Result<(), OnnxError> {
    let Some(graph) = model.graph.as_mut() else {
        return Ok(());
    };
    let constants = graph
        .node
        .iter_mut()
        .flat_map(|n| n.attribute.iter_mut())
        .filter_map(|a| a.t.as_mut());
    for t in graph.initializer.iter_mut().chain(constants) {
        if is_external(t) {
            t.raw_data = read(t, dir).map_err(|detail| OnnxError::Tensor {
                node: "external data".into(),
                tensor: t.name.clone(),
                detail,
            })?;
            t.data_location = None;
            t.external_data.clear();
        }
    }
    Ok(())
}

/// The value of key `key` of a tensor's external-data entries.
fn entry<'a>(t: &'a TensorProto, key: &str) -> Option<&'a str> {
    t.external_data
        .iter()
        .find(|e| e.key == key)
        .map(|e| e.value.as_str())
}

/// The side file a location names, confined to `dir`.
fn confined(dir: &Path, location: &str) -> Result<PathBuf, String> {
    let rel = Path::new(location);
    if location.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(format!(
            "location {location:?} is not a plain relative path inside the model's folder"
        ));
    }
    let root = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let file = root
        .join(rel)
        .canonicalize()
        .map_err(|e| format!("{location}: {e}"))?;
    if !file.starts_with(&root) {
        return Err(format!("location {location:?} leaves the model's folder"));
    }
    Ok(file)
}

/// Reads the bytes of one external tensor.
fn read(t: &TensorProto, dir: &Path) -> Result<Vec<u8>, String> {
    let location = entry(t, "location").ok_or("external data without a location")?;
    let number = |key: &str| -> Result<Option<u64>, String> {
        entry(t, key)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("{key} {v:?} is not a number"))
            })
            .transpose()
    };
    let path = confined(dir, location)?;
    let mut file = File::open(&path).map_err(|e| format!("{location}: {e}"))?;
    let size = file
        .metadata()
        .map_err(|e| format!("{location}: {e}"))?
        .len();
    let offset = number("offset")?.unwrap_or(0);
    let length = match number("length")? {
        Some(l) => l,
        None => size.saturating_sub(offset),
    };
    if length > MAX_TENSOR_BYTES {
        return Err(format!(
            "{length} bytes exceed the {MAX_TENSOR_BYTES}-byte bound of one tensor"
        ));
    }
    if offset.checked_add(length).is_none_or(|end| end > size) {
        return Err(format!(
            "bytes {offset}..+{length} lie outside {location} ({size} bytes)"
        ));
    }
    let mut bytes = vec![0u8; length as usize];
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(&mut bytes))
        .map_err(|e| format!("{location}: {e}"))?;
    Ok(bytes)
}
