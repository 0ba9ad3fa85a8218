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

impl Const {
    /// The values as floats (integer tensors converted).
    pub fn values(&self) -> Vec<f32> {
        if self.floats.is_empty() {
            self.ints.iter().map(|v| *v as f32).collect()
        } else {
            self.floats.clone()
        }
    }
}

const FLOAT: i32 = 1;
const INT32: i32 = 6;
const INT64: i32 = 7;
const DOUBLE: i32 = 11;
const UINT8: i32 = 2;
const INT8: i32 = 3;
const UINT16: i32 = 4;
const INT16: i32 = 5;
const UINT32: i32 = 12;
const UINT64: i32 = 13;
const BOOL: i32 = 9;

/// Little-endian integers of a small integer type.
fn small_ints(data_type: i32, raw: &[u8]) -> Option<Vec<i64>> {
    Some(match data_type {
        UINT8 | BOOL => raw.iter().map(|b| *b as i64).collect(),
        INT8 => raw.iter().map(|b| *b as i8 as i64).collect(),
        UINT16 => le_chunks::<2>(raw)?
            .into_iter()
            .map(|b| u16::from_le_bytes(b) as i64)
            .collect(),
        INT16 => le_chunks::<2>(raw)?
            .into_iter()
            .map(|b| i16::from_le_bytes(b) as i64)
            .collect(),
        UINT32 => le_chunks::<4>(raw)?
            .into_iter()
            .map(|b| u32::from_le_bytes(b) as i64)
            .collect(),
        UINT64 => le_chunks::<8>(raw)?
            .into_iter()
            .map(|b| i64::try_from(u64::from_le_bytes(b)).ok())
            .collect::<Option<Vec<i64>>>()?,
        _ => return None,
    })
}

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
    let len = shape
        .iter()
        .try_fold(1usize, |a, d| a.checked_mul(*d))
        .filter(|n| *n <= 1 << 30)
        .ok_or_else(|| format!("shape {shape:?} is too large"))?;
    if crate::external::is_external(t) {
        return Err(
            "its data is in a side file: load the model from its file (by path), so the side \
             file next to it can be read"
                .into(),
        );
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
        UINT8 | INT8 | UINT16 | INT16 | UINT32 | UINT64 | BOOL if !raw.is_empty() => {
            (vec![], small_ints(t.data_type, raw).ok_or_else(bad_raw)?)
        }
        // Small integer types are stored widened in int32_data, unsigned 32/64-bit ones in
        // uint64_data.
        UINT8 | INT8 | UINT16 | INT16 | BOOL => {
            (vec![], t.int32_data.iter().map(|v| *v as i64).collect())
        }
        UINT32 | UINT64 => (
            vec![],
            t.uint64_data
                .iter()
                .map(|v| i64::try_from(*v).map_err(|_| format!("value {v} exceeds i64")))
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(format!(
                "data type {other} is not supported (float, double and integer types are)"
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
