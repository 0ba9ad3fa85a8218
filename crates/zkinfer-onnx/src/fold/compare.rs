//! Comparisons, logic and `Where` on constants (the masks exporters build); booleans are the
//! integers 0 and 1.

use super::required;
use super::tensor::{broadcast, broadcast_shape, zip_with, Tensor};
use crate::attrs::Attrs;

type Out = Result<Vec<Tensor>, String>;

fn holds(op: &str, a: f64, b: f64) -> bool {
    match op {
        "Equal" => a == b,
        "Less" => a < b,
        "Greater" => a > b,
        "LessOrEqual" => a <= b,
        "GreaterOrEqual" => a >= b,
        "And" => a != 0.0 && b != 0.0,
        "Or" => a != 0.0 || b != 0.0,
        _ => (a != 0.0) != (b != 0.0),
    }
}

/// A comparison or logical op, with broadcasting.
pub fn binary(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let op = attrs.op_type();
    let (a, b) = (required(inputs, 0)?, required(inputs, 1)?);
    // Integers compare exactly (as i64), floats as floats.
    let out = if a.is_int() && b.is_int() {
        zip_with(&a.ints(), &b.ints(), |x, y| {
            let exact = match op {
                "Equal" => Some(x == y),
                "Less" => Some(x < y),
                "Greater" => Some(x > y),
                "LessOrEqual" => Some(x <= y),
                "GreaterOrEqual" => Some(x >= y),
                _ => None,
            };
            i64::from(exact.unwrap_or_else(|| holds(op, x as f64, y as f64)))
        })?
    } else {
        zip_with(&a.floats(), &b.floats(), |x, y| {
            i64::from(holds(op, x as f64, y as f64))
        })?
    };
    Ok(vec![Tensor::I(out)])
}

/// `Not`.
pub fn not(_: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    Ok(vec![Tensor::I(
        required(inputs, 0)?.ints().mapv(|v| i64::from(v == 0)),
    )])
}

/// `Where(condition, x, y)`.
pub fn select(_: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let (c, x, y) = (
        required(inputs, 0)?,
        required(inputs, 1)?,
        required(inputs, 2)?,
    );
    let shape = broadcast_shape(&broadcast_shape(c.shape(), x.shape())?, y.shape())?;
    let c = broadcast(&c.ints(), &shape)?;
    Ok(vec![if x.is_int() && y.is_int() {
        let picked = zip_with(&broadcast(&x.ints(), &shape)?, &y.ints(), |a, b| (a, b))?;
        Tensor::I(zip_with(
            &c,
            &picked,
            |k, (a, b)| if k != 0 { a } else { b },
        )?)
    } else {
        let picked = zip_with(&broadcast(&x.floats(), &shape)?, &y.floats(), |a, b| (a, b))?;
        Tensor::F(zip_with(
            &c,
            &picked,
            |k, (a, b)| if k != 0 { a } else { b },
        )?)
    }])
}
