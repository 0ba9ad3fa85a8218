//! Validation of a spec read from untrusted bytes: versions, bounds and shapes that chain.
//! Whether this build's circuit can hold the spec (its layout, rows that fit `k`) is the
//! circuit's check, [`crate::circuit::CircuitPlan::validated`].

use super::{
    read_slots, Activation, GatherEntry, LayerKind, LayerSpec, ModelSpec, FORMAT_VERSION,
    MAX_BATCH, MAX_GATHER_SOURCES, MAX_K, MAX_LAYERS, MAX_LEN, MAX_SCALE, MIN_K,
};
use crate::digest::parse_hex;
use crate::{CoreError, MAX_SHIFT, VALUE_BITS};

impl ModelSpec {
    /// Checks versions, bounds and that the layers chain; does not touch cryptography or the
    /// circuit's layouts.
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
        if !(1..=MAX_BATCH).contains(&c.batch) {
            return bad(format!(
                "circuit batch {} outside [1, {}]",
                c.batch, MAX_BATCH
            ));
        }
        if c.value_bits != VALUE_BITS {
            return bad(format!(
                "circuit value_bits {} differs from this build's {VALUE_BITS}",
                c.value_bits
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
            self.validate_channel_scales(i, l, shift)?;
            self.validate_kind(i, l)?;
            self.validate_width(i, l)?;
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
        let parts = self.output_parts.iter().try_fold(0usize, |a, p| {
            p.iter()
                .try_fold(1usize, |n, d| n.checked_mul(*d))
                .and_then(|n| a.checked_add(n))
        });
        if !self.output_parts.is_empty() && parts != Some(self.output.len()) {
            return bad(format!(
                "output parts {:?} do not hold the {} output values",
                self.output_parts,
                self.output.len()
            ));
        }
        let commitment = self.commitment_bytes()?;
        if parse_hex::<32>(&self.vk_fingerprint).is_none() {
            return bad("vk_fingerprint is not 64 hex digits".into());
        }
        self.validate_public_weights(commitment)
    }

    /// Public weights: one entry per layer, each of its layer's shapes and ranges, exactly
    /// when the layout has no hash lanes, and then no commitment.
    fn validate_public_weights(&self, commitment: [u8; 32]) -> Result<(), CoreError> {
        let bad = |m: String| Err(CoreError::InvalidSpec(m));
        if !self.circuit.public_weights() {
            if !self.public_weights.is_empty() {
                return bad("public weights in a spec whose circuit commits the weights".into());
            }
            return Ok(());
        }
        if self.public_weights.len() != self.layers.len() {
            return bad(format!(
                "{} public weight entries for {} layers",
                self.public_weights.len(),
                self.layers.len()
            ));
        }
        if commitment != [0; 32] {
            return bad("a weights commitment in a spec whose weights are public".into());
        }
        for (i, (w, l)) in self.public_weights.iter().zip(&self.layers).enumerate() {
            w.check(i, l)
                .map_err(|e| CoreError::InvalidSpec(format!("public weights: {e}")))?;
        }
        Ok(())
    }

    /// Per-channel scales: one per filter of a dense or convolution layer, each keeping the
    /// weight scale and the rescale shift in bounds.
    fn validate_channel_scales(
        &self,
        i: usize,
        l: &LayerSpec,
        shift: i64,
    ) -> Result<(), CoreError> {
        if l.channel_scales.is_empty() {
            return Ok(());
        }
        let bad = |m: String| Err(CoreError::InvalidSpec(m));
        let weighted = matches!(l.kind, LayerKind::Dense | LayerKind::Conv2d { .. });
        if !weighted || l.channel_scales.len() != l.filters() {
            return bad(format!(
                "layer {i} ({}): {} channel scales for {} filters",
                l.name,
                l.channel_scales.len(),
                if weighted { l.filters() } else { 0 }
            ));
        }
        let top = l.channel_scales.iter().copied().max().unwrap_or(0);
        if l.weight_scale + top > MAX_SCALE || shift + top as i64 > MAX_SHIFT as i64 {
            return bad(format!(
                "layer {i} ({}): channel scale {top} puts the weight scale or the shift out of bounds",
                l.name
            ));
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

    /// Wide values: a max pool is wide exactly when its input is, a gather exactly when a value
    /// it reads is, and any other wide layer has no activation or ReLU (the tables of the
    /// other functions read 8-bit quotients).
    fn validate_width(&self, i: usize, l: &LayerSpec) -> Result<(), CoreError> {
        let follows = match &l.kind {
            LayerKind::MaxPool { .. } => Some(self.value_wide(l.sources[0])),
            LayerKind::Gather { entries } => Some(
                read_slots(entries)
                    .filter_map(|k| l.sources.get(k))
                    .any(|s| self.value_wide(*s)),
            ),
            _ => None,
        };
        let ok = match follows {
            Some(wide) => l.wide == wide,
            None => !l.wide || matches!(l.activation, Activation::None | Activation::Relu),
        };
        if ok {
            return Ok(());
        }
        Err(CoreError::InvalidSpec(format!(
            "layer {i} ({}): wide = {} does not fit its kind, activation or inputs",
            l.name, l.wide
        )))
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
}
