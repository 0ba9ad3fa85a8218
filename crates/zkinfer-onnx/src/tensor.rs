//! Constant tensors (initializers and `Constant` nodes) as plain arrays.

use tract_onnx::pb::TensorProto;

/// A constant tensor read from the model.
#[derive(Clone, Debug, PartialEq)]
pub struct Const {
    /// Shape.
    pub shape: Vec<usize>,
    /// Values as `f32` (float tensors).
    pub floats: Vec<f32>,
    /// Values as `i64` (integer tensors).
    pub ints: Vec<i64>,
}

const FLOAT: i32 = 1;
const INT32: i32 = 6;
const INT64: i32 = 7;
const DOUBLE: i32 = 11;

fn le_chunks<const N: usize>(raw: &[u8]) -> Option<Vec<[u8; N]>> {
    raw.len().is_multiple_of(N).then(|| {
        raw.chunks_exact(N)
            .map(|c| {
                let mut a = [0u8; N];
                a.copy_from_slice(c);
                a
            })
            .collect()
    })
}

/// Reads a tensor; returns a description of the problem on failure.
pub fn read(t: &TensorProto) -> Result<Const, String> {
    let shape = t
        .dims
        .iter()
        .map(|d| usize::try_from(*d).map_err(|_| format!("negative dimension {d}")))
        .collect::<Result<Vec<usize>, String>>()?;
    let len: usize = shape.iter().product();
    if t.data_location == Some(1) {
        return Err("external tensor data is not supported".into());
    }
    let raw = &t.raw_data;
    let bad_raw = || {
        format!(
            "raw data of {} bytes does not fit data type {}",
            raw.len(),
            t.data_type
        )
    };
    let (floats, ints): (Vec<f32>, Vec<i64>) = match t.data_type {
        FLOAT if !raw.is_empty() => {
            let v: Vec<f32> = le_chunks::<4>(raw)
                .ok_or_else(bad_raw)?
                .into_iter()
                .map(f32::from_le_bytes)
                .collect();
            (v, vec![])
        }
        FLOAT => (t.float_data.clone(), vec![]),
        DOUBLE if !raw.is_empty() => {
            let v = le_chunks::<8>(raw)
                .ok_or_else(bad_raw)?
                .into_iter()
                .map(|b| f64::from_le_bytes(b) as f32)
                .collect();
            (v, vec![])
        }
        DOUBLE => (t.double_data.iter().map(|v| *v as f32).collect(), vec![]),
        INT64 if !raw.is_empty() => (
            vec![],
            le_chunks::<8>(raw)
                .ok_or_else(bad_raw)?
                .into_iter()
                .map(i64::from_le_bytes)
                .collect(),
        ),
        INT64 => (vec![], t.int64_data.clone()),
        INT32 if !raw.is_empty() => (
            vec![],
            le_chunks::<4>(raw)
                .ok_or_else(bad_raw)?
                .into_iter()
                .map(|b| i32::from_le_bytes(b) as i64)
                .collect(),
        ),
        INT32 => (vec![], t.int32_data.iter().map(|v| *v as i64).collect()),
        other => {
            return Err(format!(
                "data type {other} is not supported (float, double, int32, int64 are)"
            ))
        }
    };
    let got = floats.len().max(ints.len());
    if got != len {
        return Err(format!("holds {got} values, shape {shape:?} needs {len}"));
    }
    Ok(Const {
        shape,
        floats,
        ints,
    })
}
