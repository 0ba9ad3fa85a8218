//! Arithmetic on constants: `Add`, `Sub`, `Mul`, `Div`, `Pow`, `Mod`, the variadic `Min`,
//! `Max`, `Sum`, `Mean`, and unary functions.

use super::required;
use super::tensor::{zip_with, Tensor};
use crate::attrs::Attrs;
use zkinfer_core::spec::Function;

type Out = Result<Vec<Tensor>, String>;

fn int_op(op: &str, fmod: bool, a: i64, b: i64) -> Option<i64> {
    match op {
        "Add" | "Sum" => a.checked_add(b),
        "Sub" => a.checked_sub(b),
        "Mul" => a.checked_mul(b),
        "Div" => a.checked_div(b),
        "Pow" => u32::try_from(b).ok().and_then(|e| a.checked_pow(e)),
        "Mod" if fmod => a.checked_rem(b),
        "Mod" => a.checked_rem(b).map(|r| {
            if r != 0 && (r < 0) != (b < 0) {
                r + b
            } else {
                r
            }
        }),
        "Min" => Some(a.min(b)),
        "Max" => Some(a.max(b)),
        _ => None,
    }
}

fn float_op(op: &str, fmod: bool, a: f32, b: f32) -> f32 {
    match op {
        "Add" | "Sum" | "Mean" => a + b,
        "Sub" => a - b,
        "Mul" => a * b,
        "Div" => a / b,
        "Pow" => a.powf(b),
        "Mod" if fmod => a % b,
        "Mod" => a - b * (a / b).floor(),
        "Min" => a.min(b),
        _ => a.max(b),
    }
}

fn apply(op: &str, fmod: bool, a: &Tensor, b: &Tensor) -> Result<Tensor, String> {
    if a.is_int() && b.is_int() && op != "Mean" {
        let mut overflow = false;
        let out = zip_with(&a.ints(), &b.ints(), |x, y| {
            int_op(op, fmod, x, y).unwrap_or_else(|| {
                overflow = true;
                0
            })
        })?;
        if overflow {
            return Err(format!("integer {op} overflows or divides by zero"));
        }
        Ok(Tensor::I(out))
    } else {
        Ok(Tensor::F(zip_with(&a.floats(), &b.floats(), |x, y| {
            float_op(op, fmod, x, y)
        })?))
    }
}

/// A binary elementwise op with numpy broadcasting (`Pow` keeps its base's type).
pub fn binary(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let fmod = attrs.int("fmod", 0) != 0;
    let (a, b) = (required(inputs, 0)?, required(inputs, 1)?);
    let out = apply(attrs.op_type(), fmod, a, b)?;
    Ok(vec![match out {
        Tensor::F(f) if attrs.op_type() == "Pow" && a.is_int() => Tensor::I(f.mapv(|v| v as i64)),
        other => other,
    }])
}

/// `Min`, `Max`, `Sum`, `Mean` of any number of inputs.
pub fn variadic(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let op = attrs.op_type();
    let mut parts = inputs.iter().flatten();
    let mut acc = parts.next().ok_or("no inputs")?.clone();
    let mut n = 1.0f32;
    for p in parts {
        acc = apply(op, false, &acc, p)?;
        n += 1.0;
    }
    if op == "Mean" {
        acc = Tensor::F(acc.floats().mapv(|v| v / n));
    }
    Ok(vec![acc])
}

/// The table function an ONNX unary op names (`Relu` excepted).
fn function(op: &str) -> Function {
    match op {
        "Neg" => Function::Neg,
        "Abs" => Function::Abs,
        "Sqrt" => Function::Sqrt,
        "Reciprocal" => Function::Reciprocal,
        "Floor" => Function::Floor,
        "Ceil" => Function::Ceil,
        "Round" => Function::Round,
        "Exp" => Function::Exp,
        "Log" => Function::Log,
        "Sign" => Function::Sign,
        "Sigmoid" => Function::Sigmoid,
        "Tanh" => Function::Tanh,
        _ => Function::Erf,
    }
}

/// A unary function of a float, as the circuit's tables define it.
fn float_unary(op: &str, x: f32) -> f32 {
    match op {
        "Relu" => x.max(0.0),
        _ => zkinfer_core::function::eval(function(op), x as f64) as f32,
    }
}

/// A unary elementwise function (`Neg`, `Abs`, `Sign` and `Relu` keep integers).
pub fn unary(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let op = attrs.op_type();
    let t = required(inputs, 0)?;
    Ok(vec![match (t, op) {
        (Tensor::I(a), "Neg") => Tensor::I(a.mapv(|v| v.saturating_neg())),
        (Tensor::I(a), "Abs") => Tensor::I(a.mapv(|v| v.saturating_abs())),
        (Tensor::I(a), "Sign") => Tensor::I(a.mapv(i64::signum)),
        (Tensor::I(a), "Relu") => Tensor::I(a.mapv(|v| v.max(0))),
        _ => Tensor::F(t.floats().mapv(|x| float_unary(op, x))),
    }])
}
