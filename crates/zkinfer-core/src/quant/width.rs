//! Activation widths: 8-bit values everywhere, or 16-bit (wide) values where the circuit can
//! hold them.

use std::fmt;
use std::str::FromStr;

use crate::ir::{FloatLayer, LayerOp, Pool, PoolKind};

/// Which layers calibration makes wide.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Width {
    /// Every value 8-bit.
    #[default]
    Narrow,
    /// Every layer that can be wide: rescaling layers with no activation or ReLU, and the max
    /// pools and gathers of their values. Table functions keep 8-bit quotients.
    Wide,
    /// [`Width::Wide`] where it costs little: compiling weighs the predicted proving time of
    /// both widths ([`AUTO_BUDGET`]); calibration alone reads it as `Wide`.
    Auto,
}

/// The predicted proving time [`Width::Auto`] accepts for wide activations, as a multiple of
/// the 8-bit model's.
pub const AUTO_BUDGET: f64 = 1.15;

impl fmt::Display for Width {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Width::Narrow => "8",
            Width::Wide => "16",
            Width::Auto => "auto",
        })
    }
}

/// Parses `8`, `16` (bits of the activations) or `auto`.
impl FromStr for Width {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "8" => Ok(Width::Narrow),
            "16" => Ok(Width::Wide),
            "auto" => Ok(Width::Auto),
            other => Err(format!("activation width {other:?} (8, 16 or auto)")),
        }
    }
}

/// Which layers' values are wide under `width`: those whose every reader can take a wide
/// value, so that no rescale has to drop more than [`crate::MAX_SHIFT`] bits to reach 8 bits.
/// A dense or convolution layer reads wide values at any width (its weight scale gives up the
/// bits), and so does an addition, subtraction or sum (its accumulator keeps the widest
/// operand's scale); any other reader must be wide itself. A layer can be wide if it rescales with no
/// activation or ReLU; a max pool or gather is wide exactly when a value it reads is.
pub fn wide_layers(layers: &[FloatLayer], width: Width) -> Vec<bool> {
    let n = layers.len();
    if width == Width::Narrow {
        return vec![false; n];
    }
    let follows = |l: &FloatLayer| {
        matches!(
            l.op,
            LayerOp::Gather(_)
                | LayerOp::Pool(Pool {
                    kind: PoolKind::Max,
                    ..
                })
        )
    };
    // Readers that take wide values whatever their own width: a weighted layer's weight scale
    // gives up bits, and a sum's accumulator keeps its widest operand's scale.
    let absorbs = |l: &FloatLayer| {
        matches!(
            l.op,
            LayerOp::Dense(_)
                | LayerOp::Conv2d(_)
                | LayerOp::Add { .. }
                | LayerOp::Pool(Pool {
                    kind: PoolKind::Sum,
                    ..
                })
        )
    };
    let candidate = |l: &FloatLayer| follows(l) || l.function.is_none();
    // Whether every reader of layer `i`'s output takes a wide value (readers come later).
    let mut accepted = vec![true; n];
    for i in (0..n).rev() {
        accepted[i] = layers
            .iter()
            .enumerate()
            .skip(i + 1)
            .filter(|(_, c)| c.sources.contains(&(i + 1)))
            .all(|(c, l)| absorbs(l) || (candidate(l) && accepted[c]));
    }
    let mut wide = vec![false; n];
    for (i, l) in layers.iter().enumerate() {
        let can = candidate(l) && accepted[i];
        wide[i] = can
            && (!follows(l)
                || l.sources
                    .iter()
                    .any(|s| *s > 0 && wide.get(s - 1).copied().unwrap_or(false)));
    }
    wide
}
