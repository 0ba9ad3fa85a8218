//! `Gather(table, ids)` of a constant table by an activation of integer ids (a token
//! embedding): `one_hot(ids) · table`, where `one_hot[t, k] = [ids[t] − k = 0]` for the keys
//! `0..rows` and, for tables of at most 63 rows, `−rows..0` (ONNX's negative indices; a 0/1
//! table on the exact integer difference; a larger table's negative ids are first wrapped to
//! `id + rows`, so that every difference stays 8-bit), and the product is a dense layer whose
//! weights (the table, once per key) stay private and committed like any other. An id outside
//! `−rows..rows` (an error in ONNX) reads a row of zeros.

use tract_onnx::pb::NodeProto;
use zkinfer_core::function::to_param;
use zkinfer_core::ir::{Dense, Entry, Gather, Op};
use zkinfer_core::spec::Function;

use super::broadcast::constant_to;
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::tensor::Const;
use crate::OnnxError;

/// Ids must be exact 8-bit values: at most this many rows.
pub const MAX_ROWS: usize = 127;

/// Tables of at most this many rows read negative ids through keys `−rows..0` (`id − key`
/// stays within ±127); larger ones wrap them first.
pub const NEGATIVE_ROWS: usize = 63;

/// Lowers an embedding lookup.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["axis"])?;
    if attrs.int("axis", 0) != 0 {
        return Err(attrs.unsupported("a lookup by activation indices must gather along axis 0"));
    }
    let mut table = cx.constant(node, 0)?.clone();
    // A 1-D table (class labels by an ArgMax) is a table of one column, read without it.
    let column = table.shape.len() == 1;
    if column {
        table.shape.push(1);
    }
    let ids = cx.activation(node, 1)?;
    let name = display_name(node);
    let (dense, hot) = lookup(cx, &name, &table, ids).map_err(|e| attrs.unsupported(e))?;
    let mut out = cx.shape(ids).to_vec();
    if !column {
        out.push(table.shape[1]);
    }
    cx.push(node, Op::Dense(dense), vec![hot], out)
}

/// `id + rows · [id < 0]`: ONNX's negative ids as the rows they read, with
/// `[id < 0] = [id ≤ 0] − [id = 0]` from two 0/1 tables.
fn wrapped(cx: &mut Context, name: &str, ids: usize, rows: usize) -> usize {
    let shape = cx.shape(ids).to_vec();
    let mut table = |label: &str, f: Function, inputs: Vec<usize>| {
        cx.push_value(
            format!("{name}/{label}"),
            Op::Activation(f),
            inputs,
            shape.clone(),
        )
    };
    let at_most_zero = table("not_positive", Function::NotPositive, vec![ids]);
    let zero = table("zero", Function::IsZero, vec![ids]);
    let negative = cx.push_value(
        format!("{name}/negative"),
        Op::Sub,
        vec![at_most_zero, zero],
        shape.clone(),
    );
    let shift = Function::Affine {
        scale: to_param(rows as f64),
        offset: 0,
    };
    let wrap = cx.push_value(
        format!("{name}/wrap"),
        Op::Activation(shift),
        vec![negative],
        shape.clone(),
    );
    cx.push_value(format!("{name}/row"), Op::Add, vec![ids, wrap], shape)
}

/// The rows of the 2-D constant `table` that `ids` (an activation of integers) select: the
/// one-hot value and the dense layer (weights: the table) that multiplies it.
pub fn lookup(
    cx: &mut Context,
    name: &str,
    table: &Const,
    ids: usize,
) -> Result<(Dense, usize), String> {
    let (rows, width) = match table.shape.as_slice() {
        [r, w] => (*r, *w),
        s => return Err(format!("the table must be 2-D, got shape {s:?}")),
    };
    if rows == 0 || rows > MAX_ROWS {
        return Err(format!(
            "a table of {rows} rows (ids are 8-bit values: at most {MAX_ROWS} rows)"
        ));
    }
    let n: usize = cx.shape(ids).iter().product();
    if n.saturating_mul(rows.max(width)) > zkinfer_core::spec::MAX_LEN {
        return Err(format!(
            "{n} ids of a {rows} × {width} table exceed the size limit"
        ));
    }
    // Keys 0..rows and, for ONNX's negative indices, −rows..0 (row `k mod rows`) while every
    // difference `id − key` stays an 8-bit value; a larger table's ids are wrapped first.
    let (ids, keys_len) = if rows <= NEGATIVE_ROWS {
        (ids, 2 * rows)
    } else {
        (wrapped(cx, name, ids, rows), rows)
    };
    let wide = vec![n, keys_len];
    let spread = Gather {
        entries: (0..n * keys_len)
            .map(|i| Entry::Value {
                input: 0,
                index: i / keys_len,
            })
            .collect(),
        shape: wide.clone(),
    };
    let b = cx.push_value(
        format!("{name}/ids"),
        Op::Gather(spread),
        vec![ids],
        wide.clone(),
    );
    let keys = Const {
        shape: vec![1, keys_len],
        floats: (0..keys_len as i64)
            .map(|k| if (k as usize) < rows { k } else { k - 2 * rows as i64 } as f32)
            .collect(),
        ints: vec![],
    };
    let k = constant_to(cx, name, &keys, &wide);
    let d = cx.push_value(
        format!("{name}/difference"),
        Op::Sub,
        vec![b, k],
        wide.clone(),
    );
    let hot = cx.push_value(
        format!("{name}/one_hot"),
        Op::Activation(Function::IsZero),
        vec![d],
        wide,
    );
    let values = table.values();
    let dense = Dense {
        inputs: keys_len,
        outputs: width,
        weights: (0..width)
            .flat_map(|j| (0..keys_len).map(move |k| (k % rows) * width + j))
            .map(|i| values[i])
            .collect(),
        bias: vec![0.0; width],
        batch: n,
    };
    Ok((dense, hot))
}
