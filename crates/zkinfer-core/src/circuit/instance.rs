//! The single place that orders public inputs: `[commitment, inputs.., outputs..]`, inputs and
//! outputs offset-encoded as `v + 128`.

use halo2_proofs::pasta::Fp;

use crate::field::{fe, to_i64};
use crate::{VALUE_MAX, VALUE_MIN, VALUE_OFFSET};

/// Positions of the public values in the instance column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceLayout {
    inputs: usize,
    outputs: usize,
}

impl InstanceLayout {
    /// Layout for a model with `inputs` input and `outputs` output values.
    pub fn new(inputs: usize, outputs: usize) -> Self {
        InstanceLayout { inputs, outputs }
    }

    /// Row of the weight commitment.
    pub fn commitment(&self) -> usize {
        0
    }

    /// Row of the first input.
    pub fn first_input(&self) -> usize {
        1
    }

    /// Row of the first output.
    pub fn first_output(&self) -> usize {
        1 + self.inputs
    }

    /// Number of public values.
    pub fn len(&self) -> usize {
        1 + self.inputs + self.outputs
    }

    /// Whether there are no public values (never: the commitment is always there).
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// The instance column for a commitment, quantized inputs and quantized outputs.
pub fn instances(commitment: Fp, inputs: &[i64], outputs: &[i64]) -> Vec<Fp> {
    let mut v = Vec::with_capacity(1 + inputs.len() + outputs.len());
    v.push(commitment);
    v.extend(inputs.iter().chain(outputs).map(|x| fe(x + VALUE_OFFSET)));
    v
}

/// Reads an offset-encoded public value back, if it is in the 8-bit range.
pub fn decode_offset(f: &Fp) -> Option<i64> {
    decode_in(f, VALUE_MIN..=VALUE_MAX)
}

/// Reads an offset-encoded public value back, if it is in `range`.
pub fn decode_in(f: &Fp, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
    to_i64(f)
        .map(|v| v - VALUE_OFFSET)
        .filter(|v| range.contains(v))
}
