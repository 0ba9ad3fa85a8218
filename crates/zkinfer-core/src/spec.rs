//! The public model spec: everything a verifier needs, and no weight values.

use serde::{Deserialize, Serialize};

use crate::digest::{blake2b256, parse_hex};
use crate::geometry::Window;
use crate::{CoreError, MAX_SHIFT, VALUE_BITS};

/// Version of the spec, `.zkm` and proof-bundle formats.
pub const FORMAT_VERSION: u32 = 1;
/// Smallest `k` a spec may name (the lookup table needs 2^10 rows).
pub const MIN_K: u32 = 10;
/// Largest `k` a spec may name.
pub const MAX_K: u32 = 22;
/// Largest tensor length a spec may name.
pub const MAX_LEN: usize = 1 << 20;
/// Largest number of layers a spec may name.
pub const MAX_LAYERS: usize = 512;
/// Largest fixed-point scale exponent.
pub const MAX_SCALE: u32 = 24;
/// Largest number of values a gather layer reads.
pub const MAX_GATHER_SOURCES: usize = 16;

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
    /// Scale exponent of the layer output.
    pub output_scale: u32,
    /// Activation.
    pub activation: Activation,
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

    /// Scale exponent of the layer's result (after its activation).
    pub fn result_scale(&self) -> u32 {
        match self.activation {
            Activation::Table { scale, .. } => scale,
            _ => self.output_scale,
        }
    }
}

/// Layout constants of the circuit the spec was compiled for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitSpec {
    /// log2 of the number of rows.
    pub k: u32,
    /// Multiply-accumulates per dense row.
    pub mac_width: usize,
    /// Parallel Poseidon sponges hashing the weights.
    pub hash_lanes: usize,
    /// Bits of activations and weights.
    pub value_bits: u32,
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
    /// Dense layers in order.
    pub layers: Vec<LayerSpec>,
    /// Circuit layout.
    pub circuit: CircuitSpec,
    /// Poseidon commitment to the weights (hex of the field element's little-endian bytes).
    pub weights_commitment: String,
    /// BLAKE2b-256 fingerprint of the verifying key (hex).
    pub vk_fingerprint: String,
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

    /// Bits dropped by layer `i`'s rescale.
    pub fn layer_shift(&self, i: usize) -> i64 {
        self.layer_acc_scale(i) as i64 - self.layers[i].output_scale as i64
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

    /// Checks versions, bounds and that the layers chain; does not touch cryptography.
    pub fn validate(&self) -> Result<(), CoreError> {
        let bad = |m: String| Err(CoreError::InvalidSpec(m));
        if self.format_version != FORMAT_VERSION {
            return bad(format!(
                "format_version {} (expected {FORMAT_VERSION})",
                self.format_version
            ));
        }
        let c = &self.circuit;
        if !(MIN_K..=MAX_K).contains(&c.k) {
            return bad(format!("k = {} outside [{MIN_K}, {MAX_K}]", c.k));
        }
        if c.mac_width != crate::circuit::MAC_WIDTH
            || c.hash_lanes != crate::circuit::HASH_LANES
            || c.value_bits != VALUE_BITS
        {
            return bad(format!(
                "circuit layout {c:?} differs from this build (mac_width {}, hash_lanes {}, value_bits {VALUE_BITS})",
                crate::circuit::MAC_WIDTH,
                crate::circuit::HASH_LANES
            ));
        }
        if self.layers.is_empty() || self.layers.len() > MAX_LAYERS {
            return bad(format!(
                "{} layers (1..={MAX_LAYERS} allowed)",
                self.layers.len()
            ));
        }
        for t in [&self.input, &self.output] {
            let len = t
                .shape
                .iter()
                .try_fold(1usize, |acc, d| acc.checked_mul(*d));
            if t.shape.len() > 8 || t.shape.contains(&0) || len.is_none_or(|l| l > MAX_LEN) {
                return bad(format!("tensor shape {:?} out of bounds", t.shape));
            }
            if t.scale > MAX_SCALE {
                return bad(format!(
                    "tensor {:?} scale {} out of bounds",
                    t.shape, t.scale
                ));
            }
        }
        for (i, l) in self.layers.iter().enumerate() {
            let arity_ok = match l.kind {
                LayerKind::Add { .. } => (1..=2).contains(&l.sources.len()),
                LayerKind::Mul | LayerKind::MatMul { .. } => l.sources.len() == 2,
                LayerKind::Gather { .. } => (1..=MAX_GATHER_SOURCES).contains(&l.sources.len()),
                _ => l.sources.len() == 1,
            };
            if !arity_ok || l.sources.iter().any(|s| *s > i) {
                return bad(format!(
                    "layer {i} ({}) reads values {:?}",
                    l.name, l.sources
                ));
            }
            let len = self.value_len(l.sources[0]);
            if l.inputs != len || l.outputs == 0 || l.outputs > MAX_LEN {
                return bad(format!(
                    "layer {i} ({}) maps {} -> {} but receives {len} values",
                    l.name, l.inputs, l.outputs
                ));
            }
            if l.batch != 1 && !matches!(l.kind, LayerKind::Dense | LayerKind::MatMul { .. }) {
                return bad(format!(
                    "layer {i} ({}): only dense and matmul layers have a batch",
                    l.name
                ));
            }
            if l.weight_scale > MAX_SCALE
                || l.output_scale > MAX_SCALE
                || l.result_scale() > MAX_SCALE
            {
                return bad(format!("layer {i} ({}) scale out of bounds", l.name));
            }
            let shift = self.layer_shift(i);
            if !(0..=MAX_SHIFT as i64).contains(&shift) {
                return bad(format!(
                    "layer {i} ({}) rescale shift {shift} outside [0, {MAX_SHIFT}]",
                    l.name
                ));
            }
            self.validate_kind(i, l)?;
        }
        let len = self.value_len(self.layers.len());
        if len != self.output.len() {
            return bad(format!(
                "last layer yields {len} values, output shape {:?} holds {}",
                self.output.shape,
                self.output.len()
            ));
        }
        if self.layers.last().map(LayerSpec::result_scale) != Some(self.output.scale) {
            return bad("output scale differs from the last layer's".into());
        }
        let rows = crate::circuit::CircuitPlan::from_spec(self)
            .rows(self)
            .max();
        if rows + crate::circuit::RESERVED_ROWS > 1 << c.k {
            return bad(format!(
                "the model needs {rows} rows, more than k = {} provides",
                c.k
            ));
        }
        self.commitment_bytes()?;
        if parse_hex::<32>(&self.vk_fingerprint).is_none() {
            return bad("vk_fingerprint is not 64 hex digits".into());
        }
        Ok(())
    }

    fn validate_kind(&self, i: usize, l: &LayerSpec) -> Result<(), CoreError> {
        let bad = |m: String| {
            Err(CoreError::InvalidSpec(format!(
                "layer {i} ({}): {m}",
                l.name
            )))
        };
        if let Some(w) = l.kind.window() {
            if !w.is_reasonable() || w.input.iter().product::<usize>() != l.inputs {
                return bad(format!("window {w:?} does not fit {} inputs", l.inputs));
            }
        }
        let shift = self.layer_shift(i);
        match &l.kind {
            LayerKind::Dense => {
                let b = l.batch;
                if b == 0 || !l.inputs.is_multiple_of(b) || !l.outputs.is_multiple_of(b) {
                    return bad(format!(
                        "batch {b} does not divide {} -> {}",
                        l.inputs, l.outputs
                    ));
                }
                Ok(())
            }
            LayerKind::Add { .. } => {
                if l.sources.iter().any(|s| self.value_len(*s) != l.inputs)
                    || l.outputs != l.inputs
                    || l.weight_scale != 0
                {
                    return bad("an addition takes values of one length and has no weights".into());
                }
                let acc = self.layer_acc_scale(i);
                if l.sources
                    .iter()
                    .any(|s| acc - self.value_scale(*s) > MAX_SHIFT)
                {
                    return bad(format!(
                        "operand scales differ by more than {MAX_SHIFT} bits"
                    ));
                }
                Ok(())
            }
            LayerKind::Gather { entries } => self.validate_gather(l, entries).or_else(bad),
            LayerKind::Mul => {
                if l.sources.iter().any(|s| self.value_len(*s) != l.inputs)
                    || l.outputs != l.inputs
                    || l.weight_scale != 0
                {
                    return bad(
                        "a product takes two values of one length and has no weights".into(),
                    );
                }
                Ok(())
            }
            LayerKind::MatMul { m, k, n } => {
                let dims = [l.batch, *m, *k, *n];
                let prod =
                    |a: usize, b: usize, c: usize| a.checked_mul(b).and_then(|x| x.checked_mul(c));
                let b_len = l.sources.get(1).map(|s| self.value_len(*s));
                if dims.contains(&0)
                    || prod(l.batch, *m, *k) != Some(l.inputs)
                    || prod(l.batch, *k, *n) != b_len
                    || prod(l.batch, *m, *n) != Some(l.outputs)
                    || l.weight_scale != 0
                {
                    return bad(format!(
                        "matmul {}x{m}x{k} by {k}x{n} does not fit {} and {:?} inputs, {} outputs",
                        l.batch, l.inputs, b_len, l.outputs
                    ));
                }
                Ok(())
            }
            LayerKind::Conv2d {
                window,
                out_channels,
                groups,
            } => {
                let g = *groups;
                if g == 0 || !window.input[0].is_multiple_of(g) || !out_channels.is_multiple_of(g) {
                    return bad(format!(
                        "{g} groups do not divide {} input and {out_channels} output channels",
                        window.input[0]
                    ));
                }
                if *out_channels == 0 || out_channels * window.positions() != l.outputs {
                    return bad(format!(
                        "{out_channels} channels do not give {} outputs",
                        l.outputs
                    ));
                }
                Ok(())
            }
            LayerKind::SumPool { window } => {
                if window.input[0] * window.positions() != l.outputs || l.weight_scale != 0 {
                    return bad(format!("summing does not give {} outputs", l.outputs));
                }
                Ok(())
            }
            LayerKind::MaxPool { window } | LayerKind::AvgPool { window, .. } => {
                if window.input[0] * window.positions() != l.outputs {
                    return bad(format!("pooling does not give {} outputs", l.outputs));
                }
                let max = matches!(l.kind, LayerKind::MaxPool { .. });
                if max && (shift != 0 || l.activation != Activation::None || l.weight_scale != 0) {
                    return bad("a max pool keeps its input scale and has no activation".into());
                }
                let area = window.area();
                if !max && (l.weight_scale > MAX_SHIFT || (1usize << l.weight_scale) < area) {
                    return bad(format!("average pool area {area} exceeds 2^weight_scale"));
                }
                Ok(())
            }
        }
    }

    /// Checks a gather: entries in range, one scale, no activation.
    fn validate_gather(&self, l: &LayerSpec, entries: &[GatherEntry]) -> Result<(), String> {
        if entries.len() != l.outputs
            || l.weight_scale != 0
            || l.activation != Activation::None
            || read_slots(entries)
                .filter_map(|k| l.sources.get(k))
                .any(|s| self.value_scale(*s) != l.output_scale)
        {
            return Err(format!(
                "a gather of {} entries must give {} outputs at its sources' scale, without activation",
                entries.len(),
                l.outputs
            ));
        }
        for e in entries {
            match *e {
                GatherEntry::Value(slot, index) => {
                    let len = l.sources.get(slot).map(|s| self.value_len(*s));
                    if len.is_none_or(|n| index >= n) {
                        return Err(format!("gather entry ({slot}, {index}) is out of range"));
                    }
                }
                GatherEntry::Const(c) => {
                    if !(crate::VALUE_MIN..=crate::VALUE_MAX).contains(&c) {
                        return Err(format!("gather constant {c} outside the 8-bit range"));
                    }
                }
            }
        }
        Ok(())
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
