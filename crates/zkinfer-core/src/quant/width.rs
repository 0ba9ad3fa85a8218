//! Activation widths: 8-bit values everywhere, or 16-bit (wide) values where the circuit can
//! hold them.

use std::fmt;
use std::str::FromStr;

/// Which layers calibration makes wide.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Width {
    /// Every value 8-bit.
    #[default]
    Narrow,
    /// Every layer that can be wide: rescaling layers with no activation or ReLU, and the max
    /// pools and gathers of their values. Table functions keep 8-bit quotients.
    Wide,
}

impl fmt::Display for Width {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Width::Narrow => "8",
            Width::Wide => "16",
        })
    }
}

/// Parses `8` or `16` (bits of the activations).
impl FromStr for Width {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "8" => Ok(Width::Narrow),
            "16" => Ok(Width::Wide),
            other => Err(format!("activation width {other:?} (8 or 16)")),
        }
    }
}
