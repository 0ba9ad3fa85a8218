//! Consistent forgeries of the weight commitment: the packed cells and biases it absorbs, its
//! zero padding, the digests the lanes hand on, the sponge's spare helper cells and the salt.
//! As in [`super::forgery_tests`], everything downstream of the forged value is recomputed
//! (the commitment and the public values) and every MockProver failure must be of the kind
//! under test.

use halo2_proofs::pasta::Fp;

use super::forgery_tests::{assert_rejected_by, failures, mlp, COPY};
use super::*;
use crate::chips::sponge::schedule::{schedule, trace};
use crate::chips::sponge::SpongeWitness;
use crate::chips::sponge::{RowKind, ROWS_PER_PERMUTATION};
use crate::commit::{lane_chunks, root_message};
use crate::poseidon::{PoseidonConstants, RATE};
use crate::testing::forgery::forge;

#[test]
fn the_commitment_hashes_exactly_the_packed_cells() {
    let (m, input) = mlp();
    // A different packing of the first row committed (the MAC rows keep the real weights).
    let (circuit, public) = forge(&m, &input, &|_, _| {}, &|msg| msg[0] += Fp::one());
    assert_rejected_by("packing", &failures(&m, circuit, public, NoEdit), &[COPY]);
    // A different bias committed.
    let n = crate::commit::message_len(&m.spec);
    let (circuit, public) = forge(&m, &input, &|_, _| {}, &|msg| msg[n - 1] += Fp::one());
    assert_rejected_by("bias", &failures(&m, circuit, public, NoEdit), &[COPY]);
}

/// Rehashes the commitment with non-zero padding: in a lane's last slot (`lane`) or in the
/// root's last slot.
#[derive(Clone, Debug)]
struct Padding {
    lane: Option<usize>,
    message: Vec<Fp>,
    salt: crate::salt::Salt,
}

impl Padding {
    fn lanes(&self, n: usize) -> Vec<Vec<Fp>> {
        let mut lanes = crate::commit::lanes(&self.message, n);
        if let Some(h) = self.lane {
            *lanes[h].last_mut().unwrap() = Fp::from(7);
        }
        lanes
    }

    fn root(&self, digests: &[Fp]) -> Vec<Fp> {
        let mut root = root_message(digests, &self.salt);
        if self.lane.is_none() {
            root.push(Fp::from(7));
        }
        root
    }

    /// The commitment the forged witness computes (the root keeps the capacity of the lane
    /// digests and the salt).
    fn commitment(&self, n: usize) -> Fp {
        let c = PoseidonConstants::default();
        let digests: Vec<Fp> = self.lanes(n).iter().map(|m| c.hash(m)).collect();
        let rows = trace(&c, PoseidonConstants::capacity(n + 1), &self.root(&digests));
        rows[rows.len() - 1].s[0]
    }
}

impl WitnessEdit for Padding {
    fn sponge(&self, w: &mut SpongeWitness) {
        let c = PoseidonConstants::default();
        let n = w.lanes.len();
        let cap = PoseidonConstants::capacity(lane_chunks(self.message.len(), n) * RATE);
        w.lanes = self.lanes(n).iter().map(|m| trace(&c, cap, m)).collect();
        let digests: Vec<Fp> = w.lanes.iter().map(|r| r[r.len() - 1].s[0]).collect();
        // The root keeps its length (the padding fills its last slot).
        let root = self.root(&digests);
        w.root = trace(&c, PoseidonConstants::capacity(n + 1), &root);
    }
}

#[test]
fn sponge_padding_is_zero() {
    let (m, input) = mlp();
    // 1x6: the last lane has padding; 1x2: the root (two digests and the salt) has padding.
    for (layout, lane) in [(Layout::new(1, 6), Some(5)), (Layout::new(1, 2), None)] {
        let m = m.clone().in_layout(layout).unwrap();
        let n = layout.hash_lanes;
        let message = crate::commit::message(&m.spec, &m.weights);
        let padded = lane_chunks(message.len(), n) * RATE * n;
        assert!(
            lane.is_none() || padded > message.len(),
            "{layout}: no lane padding"
        );
        let edit = Padding {
            lane,
            message,
            salt: m.weights.salt,
        };
        let (circuit, mut public) = forge(&m, &input, &|_, _| {}, &|_| {});
        public[0] = edit.commitment(n);
        assert_rejected_by(
            &format!("{layout}"),
            &failures(&m, circuit, public, edit),
            &[COPY],
        );
    }
}

/// Lane 0's digest one higher where the root absorbs it, the root sponge (and so the
/// commitment) recomputed over it: `handed_on`, the lane's final row hands the higher digest on
/// (its `m[0]`, against its state); otherwise only the root's copy of the digest holds it.
#[derive(Clone, Debug)]
struct LaneDigest {
    salt: crate::salt::Salt,
    handed_on: bool,
}

impl LaneDigest {
    /// The root sponge's rows over `digests` and the salt.
    fn root(&self, digests: &[Fp]) -> Vec<crate::chips::sponge::LaneRow> {
        let c = PoseidonConstants::default();
        let n = digests.len();
        trace(
            &c,
            PoseidonConstants::capacity(n + 1),
            &root_message(digests, &self.salt),
        )
    }
}

impl WitnessEdit for LaneDigest {
    fn sponge(&self, w: &mut SpongeWitness) {
        let mut digests: Vec<Fp> = w.lanes.iter().map(|r| r[r.len() - 1].m[0]).collect();
        digests[0] += Fp::one();
        if let (true, Some(last)) = (self.handed_on, w.lanes[0].last_mut()) {
            last.m[0] = digests[0];
        }
        w.root = self.root(&digests);
    }
}

/// MockProver's failures on [`LaneDigest`] in `layout`, the public commitment the forged root's.
fn lane_digest_failures(layout: Layout, handed_on: bool) -> Vec<String> {
    let (m, input) = mlp();
    let m = m.in_layout(layout).unwrap();
    let edit = LaneDigest {
        salt: m.weights.salt,
        handed_on,
    };
    let c = PoseidonConstants::default();
    let message = crate::commit::message(&m.spec, &m.weights);
    let mut digests: Vec<Fp> = crate::commit::lanes(&message, layout.hash_lanes)
        .iter()
        .map(|l| c.hash(l))
        .collect();
    digests[0] += Fp::one();
    let (circuit, mut public) = forge(&m, &input, &|_, _| {}, &|_| {});
    public[0] = edit.root(&digests).last().unwrap().s[0];
    failures(&m, circuit, public, edit)
}

#[test]
fn a_lane_hands_on_its_final_state_as_its_digest() {
    for layout in [Layout::new(1, 2), Layout::new(1, 6)] {
        let f = lane_digest_failures(layout, true);
        assert_rejected_by(&format!("{layout}"), &f, &["poseidon digest"]);
    }
}

#[test]
fn the_root_absorbs_the_lanes_digest_cells() {
    // The copy's destination edited: the lane hands on its honest digest, the root absorbs
    // another; only the equality constraint rejects it.
    for layout in [Layout::new(1, 2), Layout::new(1, 6)] {
        let f = lane_digest_failures(layout, false);
        assert_rejected_by(&format!("{layout}: root digest"), &f, &[COPY]);
    }
}

/// Writes a value into the two helper cells a full-round row does not use (`aux[12]`,
/// `aux[13]`: the lane's helper columns are sized for partial rounds), in every full-round row.
#[derive(Clone, Debug)]
struct FullRowSpareHelpers;

impl WitnessEdit for FullRowSpareHelpers {
    fn sponge(&self, w: &mut SpongeWitness) {
        let kinds = schedule();
        for sponge in w.lanes.iter_mut().chain([&mut w.root]) {
            let permutation_rows = sponge.len() - 1;
            for (i, row) in sponge[..permutation_rows].iter_mut().enumerate() {
                if let RowKind::Full { .. } = kinds[i % ROWS_PER_PERMUTATION] {
                    row.aux[12] = Fp::from(0xdead_beef);
                    row.aux[13] = -Fp::from(7);
                }
            }
        }
    }
}

#[test]
fn full_round_rows_have_no_free_helper_cells() {
    let (m, input) = mlp();
    for layout in [Layout::new(1, 1), Layout::new(2, 6), Layout::new(4, 3)] {
        let m = m.clone().in_layout(layout).unwrap();
        let (circuit, public) = forge(&m, &input, &|_, _| {}, &|_| {});
        let f = failures(&m, circuit, public, FullRowSpareHelpers);
        assert_rejected_by(&format!("{layout}"), &f, &["poseidon full rounds"]);
    }
}

#[test]
fn any_field_element_is_a_salt_and_the_commitment_reproduces() {
    // The salt cell is free by design: whatever element a prover absorbs, `commit` computes
    // the commitment the circuit enforces from the weights and that salt.
    let (m, input) = mlp();
    let m = m.with_salt(crate::salt::Salt::from_field(-Fp::one()));
    let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
    assert_eq!(public[0], crate::commit::commitment(&m.spec, &m.weights));
    assert!(failures(&m, circuit, public, NoEdit).is_empty());
}

/// Hashes another salt in the root sponge than the salt cell holds.
#[derive(Clone, Debug)]
struct RootSalt(Fp);

impl WitnessEdit for RootSalt {
    fn sponge(&self, w: &mut SpongeWitness) {
        let digests: Vec<Fp> = w.lanes.iter().map(|r| r[r.len() - 1].s[0]).collect();
        let root = root_message(&digests, &crate::salt::Salt::from_field(self.0));
        let cap = PoseidonConstants::capacity(root.len());
        w.root = trace(&PoseidonConstants::default(), cap, &root);
    }
}

#[test]
fn the_root_absorbs_the_salt_cell() {
    // The root sponge hashes a salt other than the one its salt cell holds, the commitment
    // recomputed from it: only the salt's copies into the root reject it.
    let (m, input) = mlp();
    for layout in [Layout::new(1, 1), Layout::new(1, 6)] {
        let m = m.clone().in_layout(layout).unwrap();
        let other = m.weights.salt.to_field() + Fp::one();
        let (circuit, mut public) = forge(&m, &input, &|_, _| {}, &|_| {});
        let resalted = m.clone().with_salt(crate::salt::Salt::from_field(other));
        public[0] = crate::commit::commitment(&resalted.spec, &resalted.weights);
        let f = failures(&m, circuit, public, RootSalt(other));
        assert_rejected_by(&format!("{layout}: root salt"), &f, &[COPY]);
    }
}
