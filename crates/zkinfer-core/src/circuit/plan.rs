//! The public layout of a model circuit and its row counts; picks the smallest `k`.

use std::sync::Arc;

use super::Layout;
use crate::chips::sponge::SpongeConfig;
use crate::chips::table::{TableContents, TableFunction};
use crate::chips::{mac_plan, pool, rescale, table};
use crate::commit::message_len;
use crate::spec::{Activation, LayerKind, LayerWeights, ModelSpec, MAX_K, MIN_K};
use crate::CoreError;

/// One layer as the circuit lays it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerPlan {
    /// Name (for region names and messages).
    pub name: String,
    /// Input length.
    pub inputs: usize,
    /// Output length.
    pub outputs: usize,
    /// What the layer computes.
    pub kind: LayerKind,
    /// Scale exponent of the weights (the multiplier scale of an average pool).
    pub weight_scale: u32,
    /// Rows of a dense layer.
    pub batch: usize,
    /// Values it reads.
    pub sources: Vec<usize>,
    /// For an addition: the left shifts aligning each operand to the accumulator scale.
    pub add_shifts: Vec<u32>,
    /// Rescale shift of each output (the layer's shift plus its channel scale).
    pub shifts: Vec<u32>,
    /// Table tag of the activation after the rescale, if any.
    pub activation_tag: Option<u64>,
    /// Whether its values are wide (two-row rescales, two-row maxima).
    pub wide: bool,
}

/// Everything synthesis needs that is public.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitPlan {
    /// log2 of the number of rows.
    pub k: u32,
    /// Input length (of one inference).
    pub input_len: usize,
    /// Inferences the circuit proves side by side (sharing the weights).
    pub copies: usize,
    /// Column layout.
    pub layout: Layout,
    /// Layers.
    pub layers: Vec<LayerPlan>,
    /// The lookup table's rows beyond the range rows (function tables in order of first use).
    pub table: TableContents,
    /// The weights, when the layout holds them in fixed columns (public weights).
    pub public_weights: Option<Arc<Vec<LayerWeights>>>,
}

/// Rows used by each column group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowCounts {
    /// Multiply-accumulate rows.
    pub mac: usize,
    /// Pooling rows.
    pub pool: usize,
    /// Input rows.
    pub input: usize,
    /// Rescale rows.
    pub rescale: usize,
    /// Commitment (sponge) rows.
    pub commitment: usize,
    /// Lookup table rows.
    pub table: usize,
    /// Public values.
    pub instance: usize,
    /// Committed message elements.
    pub message: usize,
    /// Public constants (one fixed-column row each).
    pub constants: usize,
}

/// Number of constants among a gather's entries.
fn const_count(entries: &[crate::spec::GatherEntry]) -> usize {
    entries
        .iter()
        .filter(|e| matches!(e, crate::spec::GatherEntry::Const(_)))
        .count()
}

impl RowCounts {
    /// The largest of the groups: the rows the circuit needs.
    pub fn max(&self) -> usize {
        self.largest().1
    }

    /// The largest group: its name and rows.
    pub fn largest(&self) -> (&'static str, usize) {
        [
            ("mac", self.mac),
            ("pool", self.pool),
            ("input", self.input),
            ("rescale", self.rescale),
            ("commitment", self.commitment),
            ("table", self.table),
            ("instance", self.instance),
            ("constants", self.constants),
        ]
        .into_iter()
        .fold(("mac", 0), |a, b| if b.1 > a.1 { b } else { a })
    }
}

/// Rows halo2 reserves at the end of the domain (blinding factors + 1).
pub const RESERVED_ROWS: usize = 6;

impl CircuitPlan {
    /// The plan of a spec read from untrusted bytes, after every check: the spec's own
    /// ([`ModelSpec::validate`]), a layout this build supports, and rows that fit `k`.
    pub fn validated(spec: &ModelSpec) -> Result<Self, CoreError> {
        spec.validate()?;
        let c = &spec.circuit;
        let layout = Layout::of(c);
        if !layout.is_supported() {
            return Err(CoreError::InvalidSpec(format!(
                "circuit layout {layout} ({} MAC groups, {} hash lanes, {} weights per MAC row, \
                 patch width {}, output lines {}, tiles {}) is not one of this build's: {}",
                c.mac_groups,
                c.hash_lanes,
                c.mac_width,
                c.mac_patch,
                layout.mac_lines,
                c.mac_tile,
                Layout::menu()
            )));
        }
        let plan = Self::from_spec(spec);
        let rows = plan.rows(spec).max();
        if rows + RESERVED_ROWS > 1 << c.k {
            return Err(CoreError::InvalidSpec(format!(
                "the model needs {rows} rows, more than k = {} provides",
                c.k
            )));
        }
        Ok(plan)
    }

    /// The plan of a (validated or draft) spec, using `spec.circuit.k`.
    pub fn from_spec(spec: &ModelSpec) -> Self {
        let mut functions: Vec<TableFunction> = Vec::new();
        let mut tag_of = |l: &crate::spec::LayerSpec| -> Option<u64> {
            match l.activation {
                Activation::None => None,
                Activation::Relu => Some(table::RELU_TAG),
                Activation::Table { function, scale } => {
                    let f = TableFunction {
                        function,
                        in_scale: l.output_scale,
                        out_scale: scale,
                    };
                    let i = functions.iter().position(|g| *g == f).unwrap_or_else(|| {
                        functions.push(f);
                        functions.len() - 1
                    });
                    Some(table::function_tag(i))
                }
            }
        };
        let tags: Vec<Option<u64>> = spec.layers.iter().map(&mut tag_of).collect();
        // The tags 8-bit rescales look up (16-bit rescales read range rows only).
        let narrow: Vec<u64> = spec
            .layers
            .iter()
            .zip(&tags)
            .filter(|(l, _)| !l.wide && has_rescale(&l.kind))
            .map(|(_, t)| t.unwrap_or(table::CLAMP_TAG))
            .collect();
        let table = TableContents {
            wide: spec.layers.iter().any(|l| l.wide && has_rescale(&l.kind)),
            relu: narrow.contains(&table::RELU_TAG),
            clamp: narrow.contains(&table::CLAMP_TAG),
            functions,
        };
        CircuitPlan {
            k: spec.circuit.k,
            input_len: spec.input.len(),
            copies: spec.circuit.batch.max(1),
            layout: Layout::of(&spec.circuit),
            table,
            public_weights: spec
                .circuit
                .public_weights()
                .then(|| Arc::new(spec.public_weights.clone())),
            layers: spec
                .layers
                .iter()
                .enumerate()
                .map(|(i, l)| LayerPlan {
                    name: l.name.clone(),
                    kind: l.kind.clone(),
                    weight_scale: l.weight_scale,
                    batch: l.batch.max(1),
                    sources: l.sources.clone(),
                    add_shifts: match l.kind {
                        LayerKind::Add { .. } => {
                            let acc = spec.layer_acc_scale(i);
                            let sh = |k: usize| {
                                let s = l
                                    .sources
                                    .get(k)
                                    .map(|v| spec.value_scale(*v))
                                    .unwrap_or(acc);
                                acc.saturating_sub(s).min(crate::MAX_SHIFT)
                            };
                            (0..l.sources.len()).map(sh).collect()
                        }
                        _ => Vec::new(),
                    },
                    inputs: l.inputs,
                    outputs: l.outputs,
                    shifts: spec.neuron_shifts(i),
                    activation_tag: tags[i],
                    wide: l.wide,
                })
                .collect(),
        }
    }

    /// Output length (of one inference).
    pub fn output_len(&self) -> usize {
        self.layers.last().map(|l| l.outputs).unwrap_or(0)
    }

    /// Rows used by each column group.
    pub fn rows(&self, spec: &ModelSpec) -> RowCounts {
        let public = self.layout.is_public();
        let message = if public { 0 } else { message_len(spec) };
        let n = self.copies.max(1);
        RowCounts {
            mac: self
                .layers
                .iter()
                .map(|l| match &l.kind {
                    LayerKind::Dense => mac_plan::dense_rows(
                        self.layout.shape(),
                        l.inputs / l.batch,
                        l.outputs / l.batch,
                        l.batch * n,
                    ),
                    LayerKind::Conv2d {
                        window,
                        out_channels,
                        groups,
                    } => {
                        mac_plan::conv_rows(self.layout.shape(), window, *out_channels, *groups, n)
                    }
                    _ => 0,
                })
                .sum(),
            pool: n * self
                .layers
                .iter()
                .map(|l| match &l.kind {
                    LayerKind::MaxPool { window }
                    | LayerKind::AvgPool { window, .. }
                    | LayerKind::SumPool { window } => {
                        let max = matches!(l.kind, LayerKind::MaxPool { .. });
                        window
                            .windows()
                            .iter()
                            .map(|w| pool::rows_for(w.len(), max, l.wide))
                            .sum()
                    }
                    LayerKind::Add { .. } => {
                        l.outputs * pool::rows_for(l.sources.len(), false, false)
                    }
                    LayerKind::Mul => pool::dot_rows(l.outputs, 1),
                    LayerKind::MatMul { k, .. } => pool::dot_rows(l.outputs, *k),
                    LayerKind::Gather { entries } => pool::constant_rows(const_count(entries)),
                    _ => 0,
                })
                .sum::<usize>(),
            // The offset zero, and the salt of committed weights.
            input: n * self.input_len + if public { 1 } else { 2 },
            rescale: n * self
                .layers
                .iter()
                .filter(|l| has_rescale(&l.kind))
                .map(|l| rescale::rows(&l.shifts, self.layout.rescale_lanes(), l.wide))
                .sum::<usize>(),
            commitment: match public {
                true => 0,
                false => SpongeConfig::rows(message, self.layout.hash_lanes),
            },
            table: table::rows(&self.table).len(),
            instance: 1 + n * (self.input_len + self.output_len()),
            // The offset zero, gather constants, and the commitment's zero padding.
            constants: 1
                + n * self
                    .layers
                    .iter()
                    .map(|l| match &l.kind {
                        LayerKind::Gather { entries } => const_count(entries),
                        _ => 0,
                    })
                    .sum::<usize>()
                + match public {
                    true => 0,
                    false => SpongeConfig::padding(message, self.layout.hash_lanes),
                },
            message,
        }
    }
}

/// Whether a layer of this kind ends in a rescale (maximum pools and gathers copy values).
fn has_rescale(kind: &LayerKind) -> bool {
    !matches!(kind, LayerKind::MaxPool { .. } | LayerKind::Gather { .. })
}

/// Smallest `k` whose usable rows hold `rows`.
pub fn min_k(rows: usize) -> Result<u32, CoreError> {
    (MIN_K..=MAX_K)
        .find(|k| (1usize << k) >= rows + RESERVED_ROWS)
        .ok_or_else(|| {
            CoreError::Unsupported(format!(
                "the circuit needs {rows} rows, more than 2^{MAX_K}"
            ))
        })
}

impl RowCounts {
    /// Smallest `k` that fits.
    pub fn k(&self) -> Result<u32, CoreError> {
        min_k(self.max())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::quantized_mlp;

    /// A spec that passes its own checks but not the circuit's is refused, naming why.
    #[test]
    fn validated_plans_check_layout_and_rows() {
        let (m, _) = quantized_mlp(3, &[40, 16, 10]).unwrap();
        let mut spec = m.spec.clone();
        spec.vk_fingerprint = "00".repeat(32);
        assert!(CircuitPlan::validated(&spec).is_ok());

        let mut other = spec.clone();
        other.circuit.hash_lanes = 5;
        other.validate().unwrap();
        let err = CircuitPlan::validated(&other).unwrap_err().to_string();
        assert!(err.contains("not one of this build's"), "{err}");

        // A patch width only in the layouts that have one, with their row width.
        for (groups, width, patch, tile) in [
            (1, 31, 5, false),
            (4, 31, 5, false),
            (4, 30, 4, false),
            (4, 30, 0, false),
            (4, 31, 0, true),
            (4, 30, 5, true),
        ] {
            let mut other = spec.clone();
            other.circuit.mac_groups = groups;
            other.circuit.mac_width = width;
            other.circuit.mac_patch = patch;
            other.circuit.mac_tile = tile;
            let err = CircuitPlan::validated(&other).unwrap_err().to_string();
            assert!(err.contains("not one of this build's"), "{err}");
        }
        // Output lines only in the square patch layout, with its row width.
        for (groups, width, patch, lanes, lines) in
            [(2, 31, 0, 6, 4), (16, 27, 3, 1, 4), (16, 30, 3, 1, 2)]
        {
            let mut other = spec.clone();
            let c = &mut other.circuit;
            (c.mac_groups, c.mac_width, c.mac_patch, c.hash_lanes) = (groups, width, patch, lanes);
            c.mac_lines = lines;
            let err = CircuitPlan::validated(&other).unwrap_err().to_string();
            assert!(err.contains(&format!("output lines {lines}")), "{err}");
        }
        // Plain layouts keep their JSON (and digest): no patch field.
        let json = serde_json::to_string(&spec.circuit).unwrap();
        assert!(
            !json.contains("mac_patch") && !json.contains("mac_tile"),
            "{json}"
        );
        let back: crate::spec::CircuitSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back.mac_patch, 0);

        let mut small = spec.clone();
        small.layers[0].outputs = 4000;
        small.layers[1].inputs = 4000;
        small.validate().unwrap();
        let err = CircuitPlan::validated(&small).unwrap_err().to_string();
        assert!(err.contains("rows, more than k"), "{err}");
    }
}
