//! The public model spec: everything a verifier needs, and no weight values.

use serde::{Deserialize, Serialize};

use crate::digest::{blake2b256, parse_hex};
use crate::geometry::Window;
use crate::CoreError;

pub mod as_json;
mod circuit;
mod validate;
mod weights;

pub use circuit::CircuitSpec;
pub use weights::{LayerWeights, Visibility, MAX_BIAS};

/// Version of the spec, `.zkm` and proof-bundle formats.
pub const FORMAT_VERSION: u32 = 4;
/// Smallest `k` a spec may name (parameters are pinned from here; a table of the 8-bit range
/// rows and the wide rescales' 7- and 1-bit ones fits 2^9 rows, and validation checks the
/// table like every row count).
pub const MIN_K: u32 = 9;
/// Largest `k` a spec may name (the largest whose IPA parameters have a pinned digest).
pub const MAX_K: u32 = 18;
/// Largest tensor length a spec may name.
pub const MAX_LEN: usize = 1 << 20;
/// Largest number of layers a spec may name.
pub const MAX_LAYERS: usize = 512;
/// Largest fixed-point scale exponent.
pub const MAX_SCALE: u32 = 24;
/// Largest number of values a gather layer reads.
pub const MAX_GATHER_SOURCES: usize = 16;
/// Largest number of circuits in one proof, and of inferences in one circuit.
pub const MAX_BATCH: usize = 64;
/// Weights per full-width MAC row (31 bytes pack into one field element): the widest a layout
/// may use.
pub const MAC_WIDTH: usize = 31;

/// Shape and fixed-point scale of a tensor: real value = integer / 2^scale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorSpec {
    /// Shape, batch dimension included.
    pub shape: Vec<usize>,
    /// Scale exponent.
    pub scale: u32,
}

impl TensorSpec {
    /// Number of scalars.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor holds no scalar.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Activation applied after a layer's rescale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// None.
    None,
    /// `max(x, 0)` (same scale).
    Relu,
    /// A function applied by table lookup; the result has its own scale.
    Table {
        /// The function.
        function: Function,
        /// Scale exponent of the result.
        scale: u32,
    },
}

/// Fixed-point parameter: value · 2^20.
pub type Param = i64;

/// Elementwise functions applied by table lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `e^x`.
    Exp,
    /// The error function.
    Erf,
    /// `x Φ(x)` (exact form, with erf).
    Gelu,
    /// `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`.
    GeluTanh,
    /// `x` if `x ≥ 0`, else `alpha x`.
    LeakyRelu {
        /// Slope · 2^20.
        alpha: Param,
    },
    /// `min(max(x, min), max)`.
    Clip {
        /// Lower bound · 2^20.
        min: Param,
        /// Upper bound · 2^20.
        max: Param,
    },
    /// `1 / x` (softmax normalisation).
    Reciprocal,
    /// `ln x` (log-softmax).
    Log,
    /// `1 / sqrt(x / count + eps)`: the inverse standard deviation from a sum of `count`
    /// squares (layer normalisation).
    Rsqrt {
        /// `eps` · 2^20.
        eps: Param,
        /// Number of values the sum of squares covers.
        count: u32,
    },
    /// `sqrt(x)`.
    Sqrt,
    /// `|x|`.
    Abs,
    /// `-x`.
    Neg,
    /// The sign of `x` (-1, 0 or 1).
    Sign,
    /// `floor(x)`.
    Floor,
    /// `ceil(x)`.
    Ceil,
    /// `x` rounded to the nearest integer, halves to even.
    Round,
    /// `x` rounded toward zero (a cast to an integer type).
    Trunc,
    /// `sin(x)`.
    Sin,
    /// `cos(x)`.
    Cos,
    /// `ln(1 + e^x)`.
    Softplus,
    /// `x / (1 + |x|)`.
    Softsign,
    /// `x tanh(ln(1 + e^x))`.
    Mish,
    /// `x max(0, min(1, x / 6 + 1/2))`.
    HardSwish,
    /// `max(0, min(1, alpha x + beta))`.
    HardSigmoid {
        /// Slope · 2^20.
        alpha: Param,
        /// Offset · 2^20.
        beta: Param,
    },
    /// `x` if `x ≥ 0`, else `alpha (e^x - 1)`.
    Elu {
        /// Scale of the negative part · 2^20.
        alpha: Param,
    },
    /// `max(0, x) + min(0, alpha (e^(x / alpha) - 1))`.
    Celu {
        /// Scale · 2^20.
        alpha: Param,
    },
    /// `gamma x` if `x > 0`, else `gamma alpha (e^x - 1)`.
    Selu {
        /// Scale of the negative part · 2^20.
        alpha: Param,
        /// Overall scale · 2^20.
        gamma: Param,
    },
    /// `x` if `x > alpha`, else 0.
    ThresholdedRelu {
        /// Threshold · 2^20.
        alpha: Param,
    },
    /// 1 if `x > 0`, else 0 (comparisons: `a > b` is `Positive(a − b)`).
    Positive,
    /// 1 if `x ≤ 0`, else 0.
    NotPositive,
    /// 1 if `x = 0`, else 0 (equality, logical not).
    IsZero,
    /// `scale · x + offset` (an elementwise op with one constant value).
    Affine {
        /// Factor · 2^20.
        scale: Param,
        /// Term · 2^20.
        offset: Param,
    },
    /// `x^exponent` for a constant exponent.
    Pow {
        /// Exponent · 2^20.
        exponent: Param,
    },
}

/// One output value of a gather: a value of one of the layer's sources, or a public constant
/// (already quantized at the layer's scale).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GatherEntry {
    /// `(source slot, index)`: value `index` of `sources[slot]`.
    Value(usize, usize),
    /// A constant.
    Const(i64),
}

/// What a layer computes before its rescale and activation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    /// `W x + b` on the flat input.
    Dense,
    /// 2-D convolution with `out_channels` filters in `groups` channel groups.
    Conv2d {
        /// Geometry.
        window: Window,
        /// Output channels.
        out_channels: usize,
        /// Channel groups (1: every filter reads every input channel).
        #[serde(default = "one")]
        groups: usize,
    },
    /// Maximum over each window (no rescale: shift 0).
    MaxPool {
        /// Geometry.
        window: Window,
    },
    /// Sum over each window times `round(2^weight_scale / divisor)`, rescaled by
    /// `2^weight_scale`; the divisor is the window area (padding counted as zeros) or, with
    /// `exclude_pad`, the number of values inside the input. Exact for power-of-two areas.
    AvgPool {
        /// Geometry.
        window: Window,
        /// Divide by the number of values inside the input instead of the area.
        #[serde(default)]
        exclude_pad: bool,
    },
    /// Sum of each window (multiplier 1), rescaled like any accumulator (a reduction).
    SumPool {
        /// Geometry.
        window: Window,
    },
    /// Wiring: every output is a value of a source or a public constant (transpose, concat,
    /// slice, pad, broadcast). No rows except for constants; all sources share the output scale.
    Gather {
        /// One entry per output.
        entries: Vec<GatherEntry>,
    },
    /// Elementwise product of two values of one length (scales add).
    Mul,
    /// `batch` products of an `m × k` and a `k × n` matrix, both activations (scales add).
    MatMul {
        /// Rows of the left operand.
        m: usize,
        /// Shared dimension.
        k: usize,
        /// Columns of the right operand.
        n: usize,
    },
    /// Elementwise sum of one or two values (or, with `subtract`, the first minus the second),
    /// each first brought to the larger of their scales (one value: a pass-through carrying a
    /// standalone activation).
    Add {
        /// Subtract the second value instead of adding it.
        #[serde(default)]
        subtract: bool,
    },
}

impl LayerKind {
    /// Short name for summaries and messages.
    pub fn name(&self) -> &'static str {
        match self {
            LayerKind::Dense => "dense",
            LayerKind::Conv2d { .. } => "conv",
            LayerKind::MaxPool { .. } => "maxpool",
            LayerKind::AvgPool { .. } => "avgpool",
            LayerKind::SumPool { .. } => "sumpool",
            LayerKind::Gather { .. } => "gather",
            LayerKind::Mul => "mul",
            LayerKind::MatMul { .. } => "matmul",
            LayerKind::Add { subtract: false } => "add",
            LayerKind::Add { subtract: true } => "sub",
        }
    }

    /// Whether the layer has weights.
    pub fn is_weighted(&self) -> bool {
        matches!(self, LayerKind::Dense | LayerKind::Conv2d { .. })
    }

    /// The window of a window op.
    pub fn window(&self) -> Option<&Window> {
        match self {
            LayerKind::Dense
            | LayerKind::Add { .. }
            | LayerKind::Gather { .. }
            | LayerKind::Mul
            | LayerKind::MatMul { .. } => None,
            LayerKind::Conv2d { window, .. }
            | LayerKind::MaxPool { window }
            | LayerKind::AvgPool { window, .. }
            | LayerKind::SumPool { window } => Some(window),
        }
    }

    /// Weights per output channel (dense: per output) for `inputs` values per sample.
    pub fn kernel_len(&self, inputs: usize) -> usize {
        match self {
            LayerKind::Dense => inputs,
            LayerKind::Conv2d { window, groups, .. } => {
                window.input[0] / (*groups).max(1) * window.area()
            }
            _ => 0,
        }
    }

    /// Number of weight rows (dense outputs, conv output channels).
    pub fn filters(&self, outputs: usize) -> usize {
        match self {
            LayerKind::Dense => outputs,
            LayerKind::Conv2d { out_channels, .. } => *out_channels,
            _ => 0,
        }
    }
}

/// One layer: `y = act(round((op(x) + b) / 2^shift))`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    /// Name of the source node.
    pub name: String,
    /// The computation.
    pub kind: LayerKind,
    /// Values it reads: 0 is the model input, `j + 1` the output of layer `j`.
    pub sources: Vec<usize>,
    /// Rows a dense layer applies its weights to (`inputs` and `outputs` count all rows).
    #[serde(default = "one")]
    pub batch: usize,
    /// Input length.
    pub inputs: usize,
    /// Output length.
    pub outputs: usize,
    /// Scale exponent of the weights.
    pub weight_scale: u32,
    /// Extra scale exponent of each filter of a dense or convolution layer (per output
    /// neuron or channel): filter `f`'s weights and bias are at scale
    /// `2^(weight_scale + channel_scales[f])`, and its outputs drop `channel_scales[f]` more
    /// bits in the rescale. Empty: 0 for every filter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channel_scales: Vec<u32>,
    /// Scale exponent of the layer output.
    pub output_scale: u32,
    /// Activation.
    pub activation: Activation,
    /// Whether the layer's values are wide ([`crate::WIDE_BITS`] bits, not saturated) instead
    /// of 8-bit: a rescaling layer with no activation or ReLU, a max pool of wide values, or a
    /// gather reading them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wide: bool,
}

fn one() -> usize {
    1
}

/// The source slots a gather's entries read.
pub fn read_slots(entries: &[GatherEntry]) -> impl Iterator<Item = usize> + '_ {
    let mut seen = std::collections::BTreeSet::new();
    for e in entries {
        if let GatherEntry::Value(slot, _) = e {
            seen.insert(*slot);
        }
    }
    seen.into_iter()
}

/// Per-window multipliers `round(2^weight_scale / divisor)` of an average pool.
pub fn avg_multipliers(window: &Window, weight_scale: u32, exclude_pad: bool) -> Vec<i64> {
    let scale = (1u64 << weight_scale) as f64;
    window
        .windows()
        .iter()
        .map(|w| {
            let divisor = if exclude_pad {
                w.len().max(1)
            } else {
                window.area()
            };
            (scale / divisor as f64).round() as i64
        })
        .collect()
}

impl LayerSpec {
    /// Weights per filter.
    pub fn kernel_len(&self) -> usize {
        self.kind.kernel_len(self.inputs / self.batch.max(1))
    }

    /// Number of filters (dense outputs per row, conv output channels).
    pub fn filters(&self) -> usize {
        self.kind.filters(self.outputs / self.batch.max(1))
    }

    /// Filter computing output `o` (dense: `o` modulo the neurons per row; convolution: the
    /// output channel).
    pub fn filter_of(&self, o: usize) -> usize {
        match &self.kind {
            LayerKind::Dense => o % self.filters().max(1),
            LayerKind::Conv2d { window, .. } => o / window.positions().max(1),
            _ => 0,
        }
    }

    /// Extra scale exponent of output `o`'s filter (0 without per-channel scales).
    pub fn channel_scale(&self, o: usize) -> u32 {
        self.channel_scales
            .get(self.filter_of(o))
            .copied()
            .unwrap_or(0)
    }

    /// The quotients the layer's rescale accepts (for a max pool, its results): the wide
    /// range, or one and a half times the 8-bit range (saturated by the activation).
    pub fn quotient_range(&self) -> std::ops::RangeInclusive<i64> {
        if self.wide {
            crate::WIDE_MIN..=crate::WIDE_MAX
        } else {
            crate::QUOTIENT_MIN..=crate::QUOTIENT_MAX
        }
    }

    /// The values the layer outputs.
    pub fn value_range(&self) -> std::ops::RangeInclusive<i64> {
        if self.wide {
            crate::WIDE_MIN..=crate::WIDE_MAX
        } else {
            crate::VALUE_MIN..=crate::VALUE_MAX
        }
    }

    /// Scale exponent of the layer's result (after its activation).
    pub fn result_scale(&self) -> u32 {
        match self.activation {
            Activation::Table { scale, .. } => scale,
            _ => self.output_scale,
        }
    }
}

/// The public description of a compiled model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Format version, [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Model name.
    pub name: String,
    /// The model input.
    pub input: TensorSpec,
    /// The model output.
    pub output: TensorSpec,
    /// Shapes of the model's outputs when it has several: `output` is their concatenation,
    /// in order (absent for one output).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_parts: Vec<Vec<usize>>,
    /// Dense layers in order.
    pub layers: Vec<LayerSpec>,
    /// Circuit layout.
    pub circuit: CircuitSpec,
    /// Poseidon commitment to the weights (hex of the field element's little-endian bytes);
    /// zero when the weights are public.
    pub weights_commitment: String,
    /// BLAKE2b-256 fingerprint of the verifying key (hex).
    pub vk_fingerprint: String,
    /// The weights, one entry per layer, when the circuit holds them in fixed columns
    /// ([`CircuitSpec::public_weights`]); absent when they are private and committed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_weights: Vec<LayerWeights>,
}

impl ModelSpec {
    /// Scale exponent of value `v` (0: the input, `j + 1`: layer `j`'s output).
    pub fn value_scale(&self, v: usize) -> u32 {
        match v {
            0 => self.input.scale,
            _ => self
                .layers
                .get(v - 1)
                .map(LayerSpec::result_scale)
                .unwrap_or(0),
        }
    }

    /// Whether value `v` (0: the input, `j + 1`: layer `j`'s output) is wide.
    pub fn value_wide(&self, v: usize) -> bool {
        v > 0 && self.layers.get(v - 1).is_some_and(|l| l.wide)
    }

    /// Whether any layer has wide values.
    pub fn has_wide(&self) -> bool {
        self.layers.iter().any(|l| l.wide)
    }

    /// The values the model outputs (those of its last layer).
    pub fn output_range(&self) -> std::ops::RangeInclusive<i64> {
        match self.layers.last() {
            Some(l) => l.value_range(),
            None => crate::VALUE_MIN..=crate::VALUE_MAX,
        }
    }

    /// Number of scalars of value `v`.
    pub fn value_len(&self, v: usize) -> usize {
        match v {
            0 => self.input.len(),
            _ => self.layers.get(v - 1).map(|l| l.outputs).unwrap_or(0),
        }
    }

    /// Scale exponent of layer `i`'s (first) input.
    pub fn layer_input_scale(&self, i: usize) -> u32 {
        self.value_scale(self.layers[i].sources.first().copied().unwrap_or(0))
    }

    /// Scale exponent of the accumulator of layer `i` (before its rescale).
    pub fn layer_acc_scale(&self, i: usize) -> u32 {
        let l = &self.layers[i];
        match l.kind {
            LayerKind::Gather { .. } => l.output_scale,
            LayerKind::Mul | LayerKind::MatMul { .. } => {
                l.sources.iter().map(|s| self.value_scale(*s)).sum()
            }
            LayerKind::Add { .. } => l
                .sources
                .iter()
                .map(|s| self.value_scale(*s))
                .max()
                .unwrap_or(0),
            _ => self.layer_input_scale(i) + l.weight_scale,
        }
    }

    /// Bits dropped by layer `i`'s rescale (of a filter without an extra channel scale).
    pub fn layer_shift(&self, i: usize) -> i64 {
        self.layer_acc_scale(i) as i64 - self.layers[i].output_scale as i64
    }

    /// Bits dropped by the rescale of each output of layer `i`: the layer's shift plus the
    /// output's channel scale (clamped to `[0, MAX_SHIFT]`, which validation enforces).
    pub fn neuron_shifts(&self, i: usize) -> Vec<u32> {
        let l = &self.layers[i];
        let base = self.layer_shift(i);
        (0..l.outputs)
            .map(|o| {
                let s = base + l.channel_scale(o) as i64;
                s.clamp(0, crate::MAX_SHIFT as i64) as u32
            })
            .collect()
    }

    /// Digest binding a proof bundle to this spec.
    pub fn digest(&self) -> [u8; 32] {
        let json = serde_json::to_vec(self).unwrap_or_default();
        blake2b256(b"zkinfer-spec", &json)
    }

    /// The weight commitment as bytes.
    pub fn commitment_bytes(&self) -> Result<[u8; 32], CoreError> {
        parse_hex::<32>(&self.weights_commitment)
            .ok_or_else(|| CoreError::InvalidSpec("weights_commitment is not 64 hex digits".into()))
    }

    /// Parses and validates a JSON spec.
    pub fn from_json(bytes: &[u8]) -> Result<Self, CoreError> {
        let spec: ModelSpec = serde_json::from_slice(bytes).map_err(|e| CoreError::Format {
            what: "model spec",
            detail: e.to_string(),
        })?;
        spec.validate()?;
        Ok(spec)
    }

    /// Pretty JSON of the spec.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
