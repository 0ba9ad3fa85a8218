//! The weight commitment: weights packed into field elements, hashed by parallel Poseidon
//! sponges ("lanes"), whose digests are hashed once more.
//!
//! Message order: for every weighted layer, for every filter (dense output neuron or conv
//! output channel), for every chunk of the filter's weights one MAC row holds ([`chunk_len`]:
//! the layout's `mac_width`, at most [`MAC_WIDTH`](crate::circuit::MAC_WIDTH) = 31 so the
//! bytes fit a field element, or a square patch row's whole channels), one packed element
//! `Σ_i (w_i + 128) · 256^i` over the row's `mac_width` slots (missing slots hold weight 0); then every bias as a signed field
//! element, layer by layer. The message is cut into the spec's `hash_lanes` equal runs of `2C`
//! elements (zero-padded), each run is hashed, and the commitment is the hash of the lane digests
//! followed by the model's secret [`Salt`]. The circuit enforces exactly this message: padding
//! weight slots and padding message elements are constrained to their values here.

use ff::Field;
use halo2_proofs::pasta::Fp;

use crate::field::fe;
use crate::model::ModelWeights;
use crate::poseidon::{PoseidonConstants, RATE};
use crate::salt::Salt;
use crate::spec::{LayerKind, LayerSpec, ModelSpec};
use crate::VALUE_OFFSET;

/// Packs the `width` weight slots of one row (missing slots count as weight 0).
pub fn pack_row(weights: &[i64], width: usize) -> Fp {
    let base = Fp::from(256);
    (0..width).rev().fold(Fp::ZERO, |acc, i| {
        let w = weights.get(i).copied().unwrap_or(0);
        acc * base + fe(w + VALUE_OFFSET)
    })
}

/// Number of rows (chunks) of `width` weights for a kernel of length `inputs`.
pub fn chunks(inputs: usize, width: usize) -> usize {
    inputs.div_ceil(width.max(1))
}

/// Weights of a filter one MAC row holds: the row width, or the whole channels of a square
/// patch row ([`Window::square_chunk`](crate::geometry::Window::square_chunk)).
pub fn chunk_len(spec: &ModelSpec, layer: &LayerSpec) -> usize {
    let c = &spec.circuit;
    let square = match &layer.kind {
        LayerKind::Conv2d { window, .. } => {
            window.square_chunk(c.mac_patch, c.mac_lines, c.mac_width)
        }
        _ => None,
    };
    square.unwrap_or(c.mac_width).max(1)
}

/// The committed message, in circuit order.
pub fn message(spec: &ModelSpec, weights: &ModelWeights) -> Vec<Fp> {
    let width = spec.circuit.mac_width.max(1);
    let mut out = Vec::new();
    for (l, w) in spec.layers.iter().zip(&weights.layers) {
        let (k, chunk) = (l.kernel_len().max(1), chunk_len(spec, l));
        for row in w.weights.chunks(k) {
            out.extend(row.chunks(chunk).map(|c| pack_row(c, width)));
        }
    }
    for w in &weights.layers {
        out.extend(w.bias.iter().map(|b| fe(*b)));
    }
    out
}

/// Number of message elements for a spec.
pub fn message_len(spec: &ModelSpec) -> usize {
    spec.layers
        .iter()
        .map(|l| {
            let filters = l.filters();
            filters * chunks(l.kernel_len(), chunk_len(spec, l)) + filters
        })
        .sum()
}

/// Permutations per lane for a message of `len` elements in `lanes` lanes.
pub fn lane_chunks(len: usize, lanes: usize) -> usize {
    len.div_ceil(RATE * lanes.max(1)).max(1)
}

/// Splits a message into `lanes` lanes' zero-padded inputs.
pub fn lanes(message: &[Fp], lanes: usize) -> Vec<Vec<Fp>> {
    let per_lane = lane_chunks(message.len(), lanes) * RATE;
    (0..lanes.max(1))
        .map(|h| {
            (0..per_lane)
                .map(|i| message.get(h * per_lane + i).copied().unwrap_or(Fp::ZERO))
                .collect()
        })
        .collect()
}

/// The message of the root sponge: the lane digests, then the salt.
pub fn root_message(digests: &[Fp], salt: &Salt) -> Vec<Fp> {
    digests.iter().copied().chain([salt.to_field()]).collect()
}

/// The commitment of a message hashed in `lanes` lanes: the hash of the lane digests and the
/// salt.
pub fn commit_message(
    constants: &PoseidonConstants,
    message: &[Fp],
    lanes_n: usize,
    salt: &Salt,
) -> Fp {
    let digests: Vec<Fp> = lanes(message, lanes_n)
        .iter()
        .map(|m| constants.hash(m))
        .collect();
    constants.hash(&root_message(&digests, salt))
}

/// The commitment to a model's weights (hashed in the spec's `hash_lanes` lanes).
pub fn commitment(spec: &ModelSpec, weights: &ModelWeights) -> Fp {
    commit_message(
        &PoseidonConstants::default(),
        &message(spec, weights),
        spec.circuit.hash_lanes,
        &weights.salt,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::MAC_WIDTH;

    #[test]
    fn packing_is_little_endian_bytes() {
        let p = pack_row(&[-128, -127, 0], MAC_WIDTH);
        let expected = Fp::from(1) * Fp::from(256) + Fp::from(128) * Fp::from(65536);
        // Slots 3.. hold weight 0, i.e. byte 128.
        let mut tail = Fp::ZERO;
        for i in (3..MAC_WIDTH).rev() {
            tail = tail * Fp::from(256) + Fp::from(128);
            let _ = i;
        }
        let tail = tail * Fp::from(1 << 24);
        assert_eq!(p, expected + tail);
    }

    #[test]
    fn lanes_cover_message() {
        let msg: Vec<Fp> = (0..37).map(|i| Fp::from(i as u64 + 1)).collect();
        let l = lanes(&msg, 6);
        assert_eq!(l.len(), 6);
        let flat: Vec<Fp> = l.concat();
        assert_eq!(&flat[..37], &msg[..]);
        assert!(flat[37..].iter().all(|f| *f == Fp::ZERO));
    }
}
