//! Poseidon sponges in parallel lanes (the layout's `hash_lanes`), with every gate of degree ≤ 5.
//!
//! Each lane owns 19 advice columns: state `s[3]`, helper cells `aux[14]` (`x⁴` and `x⁵` of
//! each S-box of the row) and message cells `m[2]`. Lanes run in lockstep and share the fixed
//! constants (`c[7]` for S-box inputs, `o[3]` for the row's output, `cap`) and the selectors.
//! A row carries two full rounds or seven partial rounds ([`mod@schedule`]), so a permutation takes
//! 12 rows. The constraints of a row: `aux[2t] = x_t⁴` (degree 4 in cells), `aux[2t+1] =
//! x_t · aux[2t]`, and the next row's state equals the row's output; every `x_t` and the output
//! are affine in the row's cells.
//!
//! The weight message runs through all lanes at once (lane `h` hashes its own run), then every
//! lane hashes the lane digests and the salt (the same message in every lane), and lane 0's
//! result is the commitment.
//!
//! Every message cell of an absorbing row is a copy of a committed cell (packed weights, a
//! bias, a lane digest, the salt) or, for padding, pinned to the constant 0; on every other
//! row a gate pins the message cells to 0. So the circuit hashes exactly the zero-padded
//! message that [`crate::commit`] hashes. A sponge's final row hands its digest on through
//! `m[0]`, which a gate sets equal to `s[0]`: only the message columns take part in copies.

pub mod schedule;

use ff::Field;
use halo2_proofs::circuit::{Layouter, Region, Value};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, VirtualCells,
};
use halo2_proofs::poly::Rotation;

pub use schedule::{LaneRow, RowKind, ROWS_PER_PERMUTATION};

use super::{copy_to, Cell};
use crate::poseidon::{PoseidonConstants, RATE, WIDTH};
use schedule::{
    row_constants, schedule, trace, PartialForms, AUX, FULL_PER_ROW, PARTIAL_PER_ROW, VARS,
    X_CONSTANTS,
};

/// Rows of a sponge absorbing `chunks` rate-sized chunks (the final state row included).
pub fn sponge_rows(chunks: usize) -> usize {
    chunks * ROWS_PER_PERMUTATION + 1
}

/// Advice columns of one lane.
#[derive(Clone, Copy, Debug)]
pub struct LaneColumns {
    /// State.
    pub s: [Column<Advice>; WIDTH],
    /// S-box helper cells.
    pub aux: [Column<Advice>; AUX],
    /// Message.
    pub m: [Column<Advice>; RATE],
}

/// Advice columns per lane.
pub const LANE_COLUMNS: usize = WIDTH + AUX + RATE;

/// Columns, selectors and constants of the sponge chip.
#[derive(Clone, Debug)]
pub struct SpongeConfig {
    /// The lanes.
    pub lanes: Vec<LaneColumns>,
    /// Constant parts of the S-box inputs.
    pub c: [Column<Fixed>; X_CONSTANTS],
    /// Constant parts of the row outputs.
    pub o: [Column<Fixed>; WIDTH],
    /// Initial capacity element.
    pub cap: Column<Fixed>,
    /// Initial state `(0, 0, cap)`.
    pub q_init: Selector,
    /// Rows of full rounds.
    pub q_full: Selector,
    /// Full-round rows that absorb nothing (their message cells must be 0).
    pub q_still: Selector,
    /// Rows of partial rounds.
    pub q_partial: Selector,
    /// A sponge's final row: `m[0]` is the digest `s[0]`, `m[1]` is 0.
    pub q_out: Selector,
    /// Poseidon constants.
    pub constants: PoseidonConstants,
}

/// Witness rows of the commitment region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpongeWitness {
    /// Rows of each lane's sponge over its run of the message.
    pub lanes: Vec<Vec<LaneRow>>,
    /// Rows of the sponge over the lane digests (the same in every lane).
    pub root: Vec<LaneRow>,
}

fn constant(f: Fp) -> Expression<Fp> {
    Expression::Constant(f)
}

fn pow4(x: &Expression<Fp>) -> Expression<Fp> {
    let sq = x.clone() * x.clone();
    sq.clone() * sq
}

fn combination(coeffs: &[Fp], vars: &[Expression<Fp>]) -> Expression<Fp> {
    coeffs
        .iter()
        .zip(vars)
        .filter(|(c, _)| !bool::from(c.is_zero()))
        .fold(constant(Fp::ZERO), |acc, (c, v)| {
            acc + v.clone() * constant(*c)
        })
}

impl SpongeConfig {
    /// Allocates `lanes` lanes and creates their gates.
    pub fn configure(meta: &mut ConstraintSystem<Fp>, lanes: usize) -> Self {
        let lanes: Vec<LaneColumns> = (0..lanes)
            .map(|_| LaneColumns {
                s: [(); WIDTH].map(|_| meta.advice_column()),
                aux: [(); AUX].map(|_| meta.advice_column()),
                m: [(); RATE].map(|_| meta.advice_column()),
            })
            .collect();
        for l in &lanes {
            for c in &l.m {
                meta.enable_equality(*c);
            }
        }
        let cfg = SpongeConfig {
            lanes,
            c: [(); X_CONSTANTS].map(|_| meta.fixed_column()),
            o: [(); WIDTH].map(|_| meta.fixed_column()),
            cap: meta.fixed_column(),
            q_init: meta.selector(),
            q_full: meta.selector(),
            q_still: meta.selector(),
            q_partial: meta.selector(),
            q_out: meta.selector(),
            constants: PoseidonConstants::default(),
        };
        for lane in cfg.lanes.clone() {
            cfg.lane_gates(meta, lane);
        }
        cfg
    }

    fn lane_gates(&self, meta: &mut ConstraintSystem<Fp>, l: LaneColumns) {
        let mds = self.constants.mds;
        let forms = PartialForms::new(&mds);
        let cells = move |m: &mut VirtualCells<'_, Fp>, cfg: &SpongeConfig| {
            let s = l.s.map(|col| m.query_advice(col, Rotation::cur()));
            let next = l.s.map(|col| m.query_advice(col, Rotation::next()));
            let aux = l.aux.map(|col| m.query_advice(col, Rotation::cur()));
            let c = cfg.c.map(|col| m.query_fixed(col));
            let o = cfg.o.map(|col| m.query_fixed(col));
            (s, next, aux, c, o)
        };
        let cfg = self.clone();
        meta.create_gate("poseidon init", move |m| {
            let q = m.query_selector(cfg.q_init);
            let s = l.s.map(|col| m.query_advice(col, Rotation::cur()));
            let cap = m.query_fixed(cfg.cap);
            vec![
                q.clone() * s[0].clone(),
                q.clone() * s[1].clone(),
                q * (s[2].clone() - cap),
            ]
        });
        let cfg = self.clone();
        meta.create_gate("poseidon full rounds", move |m| {
            let q = m.query_selector(cfg.q_full);
            let q_still = m.query_selector(cfg.q_still);
            let msg = l.m.map(|col| m.query_advice(col, Rotation::cur()));
            let (s, next, aux, c, o) = cells(m, &cfg);
            let mut out = Vec::with_capacity(2 * WIDTH * FULL_PER_ROW + WIDTH + RATE);
            let mut v: [Expression<Fp>; WIDTH] = std::array::from_fn(|k| {
                if k < RATE {
                    s[k].clone() + msg[k].clone()
                } else {
                    s[k].clone()
                }
            });
            for r in 0..FULL_PER_ROW {
                for k in 0..WIDTH {
                    let x = v[k].clone() + c[r * WIDTH + k].clone();
                    let (quad, y) = (&aux[2 * (r * WIDTH + k)], &aux[2 * (r * WIDTH + k) + 1]);
                    out.push(q.clone() * (quad.clone() - pow4(&x)));
                    out.push(q.clone() * (y.clone() - x * quad.clone()));
                }
                let ys: Vec<Expression<Fp>> = (0..WIDTH)
                    .map(|k| aux[2 * (r * WIDTH + k) + 1].clone())
                    .collect();
                v = std::array::from_fn(|j| combination(&mds[j], &ys));
            }
            for j in 0..WIDTH {
                out.push(q.clone() * (next[j].clone() - v[j].clone() - o[j].clone()));
            }
            for msg_k in msg {
                out.push(q_still.clone() * msg_k);
            }
            // A full-round row uses the first 2·3·2 helper cells; the rest (sized for partial
            // rounds) are pinned to 0, so no cell of the row is free.
            for spare in &aux[2 * WIDTH * FULL_PER_ROW..] {
                out.push(q.clone() * spare.clone());
            }
            out
        });
        let cfg = self.clone();
        meta.create_gate("poseidon digest", move |m| {
            let q = m.query_selector(cfg.q_out);
            let s0 = m.query_advice(l.s[0], Rotation::cur());
            let [m0, m1] = l.m.map(|col| m.query_advice(col, Rotation::cur()));
            vec![q.clone() * (m0 - s0), q * m1]
        });
        let cfg = self.clone();
        meta.create_gate("poseidon partial rounds", move |m| {
            let q = m.query_selector(cfg.q_partial);
            let msg = l.m.map(|col| m.query_advice(col, Rotation::cur()));
            let (s, next, aux, c, o) = cells(m, &cfg);
            let vars: Vec<Expression<Fp>> = s
                .iter()
                .cloned()
                .chain((0..PARTIAL_PER_ROW).map(|t| aux[2 * t + 1].clone()))
                .collect();
            debug_assert_eq!(vars.len(), VARS);
            let mut out = Vec::with_capacity(2 * PARTIAL_PER_ROW + WIDTH);
            for t in 0..PARTIAL_PER_ROW {
                let x = combination(&forms.x[t], &vars) + c[t].clone();
                out.push(q.clone() * (aux[2 * t].clone() - pow4(&x)));
                out.push(q.clone() * (aux[2 * t + 1].clone() - x * aux[2 * t].clone()));
            }
            for j in 0..WIDTH {
                out.push(
                    q.clone()
                        * (next[j].clone() - combination(&forms.out[j], &vars) - o[j].clone()),
                );
            }
            // A partial row absorbs nothing.
            for msg_k in msg {
                out.push(q.clone() * msg_k);
            }
            out
        });
    }

    /// Assigns fixed columns and selectors of a sponge of `chunks` chunks starting at `start`.
    fn assign_schedule(
        &self,
        region: &mut Region<'_, Fp>,
        start: usize,
        chunks: usize,
        cap: Fp,
    ) -> Result<(), Error> {
        self.q_init.enable(region, start)?;
        self.q_out.enable(region, start + sponge_rows(chunks) - 1)?;
        region.assign_fixed(|| "cap", self.cap, start, || Value::known(cap))?;
        for p in 0..chunks {
            for (i, kind) in schedule().into_iter().enumerate() {
                let row = start + p * ROWS_PER_PERMUTATION + i;
                match kind {
                    RowKind::Full { absorb, .. } => {
                        self.q_full.enable(region, row)?;
                        if !absorb {
                            self.q_still.enable(region, row)?;
                        }
                    }
                    RowKind::Partial { .. } => self.q_partial.enable(region, row)?,
                }
                let (xc, o) = row_constants(&self.constants, kind);
                for (col, v) in self.c.iter().zip(xc).chain(self.o.iter().zip(o)) {
                    region.assign_fixed(|| "round constant", *col, row, || Value::known(v))?;
                }
            }
        }
        Ok(())
    }

    /// Assigns one lane's sponge; `msg_cells[i]` (if any) is copied into message slot `i`, a
    /// slot without one is pinned to 0. Returns the digest cell (the final row's `m[0]`).
    fn assign_lane(
        &self,
        region: &mut Region<'_, Fp>,
        lane: &LaneColumns,
        start: usize,
        rows: Option<&[LaneRow]>,
        chunks: usize,
        msg_cells: &[Option<&Cell>],
    ) -> Result<Cell, Error> {
        let n = sponge_rows(chunks);
        if rows.is_some_and(|r| r.len() != n) {
            return Err(Error::Synthesis);
        }
        let known = |f: Option<Fp>| f.map(Value::known).unwrap_or(Value::unknown());
        let mut digest = None;
        for i in 0..n {
            let row = rows.map(|r| r[i]);
            let at = start + i;
            for k in 0..WIDTH {
                region.assign_advice(|| "s", lane.s[k], at, || known(row.map(|r| r.s[k])))?;
            }
            let last = i + 1 == n;
            // The final row's gate reads only its state and message cells.
            if !last {
                for k in 0..AUX {
                    let v = known(row.map(|r| r.aux[k]));
                    region.assign_advice(|| "aux", lane.aux[k], at, || v)?;
                }
            }
            let absorb_slot =
                (!last && i % ROWS_PER_PERMUTATION == 0).then_some(i / ROWS_PER_PERMUTATION * RATE);
            let sources = absorb_slot
                .map(|slot| std::array::from_fn(|k| msg_cells.get(slot + k).copied().flatten()));
            let m = Self::assign_message(region, lane, at, row.map(|r| r.m), sources)?;
            if last {
                digest = Some(m[0].clone());
            }
        }
        digest.ok_or(Error::Synthesis)
    }

    /// Assigns a row's message cells (`values` when proving): on an absorbing row (`sources`
    /// given) a copy of each slot's cell, or the constant 0 for padding; elsewhere cells a gate
    /// pins (0, or the digest on a final row).
    fn assign_message(
        region: &mut Region<'_, Fp>,
        lane: &LaneColumns,
        at: usize,
        values: Option<[Fp; RATE]>,
        sources: Option<[Option<&Cell>; RATE]>,
    ) -> Result<Vec<Cell>, Error> {
        (0..RATE)
            .map(|k| {
                let v = values.map_or(Value::unknown(), |m| Value::known(m[k]));
                match sources.map(|s| s[k]) {
                    Some(Some(cell)) => copy_to(region, cell, lane.m[k], at, v),
                    Some(None) => {
                        let cell = region.assign_advice(|| "padding", lane.m[k], at, || v)?;
                        region.constrain_constant(cell.cell(), Fp::ZERO)?;
                        Ok(cell)
                    }
                    None => region.assign_advice(|| "m", lane.m[k], at, || v),
                }
            })
            .collect()
    }

    /// Witness rows for hashing `message` (the committed values, in order) and `salt`.
    pub fn witness(&self, message: &[Fp], salt: &crate::salt::Salt) -> SpongeWitness {
        let c = &self.constants;
        let n = self.lanes.len();
        let lane_cap =
            PoseidonConstants::capacity(crate::commit::lane_chunks(message.len(), n) * RATE);
        let lanes: Vec<Vec<LaneRow>> = crate::commit::lanes(message, n)
            .iter()
            .map(|m| trace(c, lane_cap, m))
            .collect();
        let digests: Vec<Fp> = lanes.iter().map(|r| r[r.len() - 1].s[0]).collect();
        let root_msg = crate::commit::root_message(&digests, salt);
        let root = trace(c, PoseidonConstants::capacity(root_msg.len()), &root_msg);
        SpongeWitness { lanes, root }
    }

    /// Hashes `message` (cells, in commitment order) and the `salt` cell; returns the
    /// commitment cell. `witness` holds the rows when proving.
    pub fn commit(
        &self,
        layouter: &mut impl Layouter<Fp>,
        message: &[Cell],
        salt: &Cell,
        witness: Option<&SpongeWitness>,
    ) -> Result<Cell, Error> {
        let n = self.lanes.len();
        let chunks = crate::commit::lane_chunks(message.len(), n);
        let per_lane = chunks * RATE;
        let root_chunks = (n + 1).div_ceil(RATE);
        let lane_cap = PoseidonConstants::capacity(per_lane);
        let root_cap = PoseidonConstants::capacity(n + 1);
        let root_start = sponge_rows(chunks);
        layouter.assign_region(
            || "weight commitment",
            |mut region| {
                self.assign_schedule(&mut region, 0, chunks, lane_cap)?;
                self.assign_schedule(&mut region, root_start, root_chunks, root_cap)?;
                let mut digests = Vec::with_capacity(n);
                for (h, lane) in self.lanes.iter().enumerate() {
                    let cells: Vec<Option<&Cell>> = (0..per_lane)
                        .map(|i| message.get(h * per_lane + i))
                        .collect();
                    let rows = witness.and_then(|w| w.lanes.get(h)).map(|r| &r[..]);
                    digests.push(self.assign_lane(&mut region, lane, 0, rows, chunks, &cells)?);
                }
                let digest_refs: Vec<Option<&Cell>> =
                    digests.iter().chain([salt]).map(Some).collect();
                let root_rows = witness.map(|w| &w.root[..]);
                let mut root = None;
                for lane in &self.lanes {
                    let out = self.assign_lane(
                        &mut region,
                        lane,
                        root_start,
                        root_rows,
                        root_chunks,
                        &digest_refs,
                    )?;
                    root.get_or_insert(out);
                }
                root.ok_or(Error::Synthesis)
            },
        )
    }

    /// Padding slots of the commitment region for a message of `len` elements in `lanes`
    /// lanes: each a cell bound to the constant 0, so a row of the constants column.
    pub fn padding(len: usize, lanes: usize) -> usize {
        let lanes = lanes.max(1);
        let lane_slots = crate::commit::lane_chunks(len, lanes) * RATE * lanes;
        // Every lane runs the root sponge over the lane digests and the salt.
        let root = lanes + 1;
        let root_slots = root.div_ceil(RATE) * RATE;
        (lane_slots - len) + lanes * (root_slots - root)
    }

    /// Rows the commitment region takes for a message of `len` elements in `lanes` lanes (the
    /// root absorbs the lane digests and the salt).
    pub fn rows(len: usize, lanes: usize) -> usize {
        sponge_rows(crate::commit::lane_chunks(len, lanes))
            + sponge_rows((lanes + 1).div_ceil(RATE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_counts_the_message_slots_without_a_cell() {
        for (len, lanes) in [(1, 1), (5, 6), (12, 6), (190, 2), (2215, 3)] {
            // The slots `commit` splits the message into, lane by lane, then each lane's root.
            let padded: usize = crate::commit::lanes(&vec![Fp::ONE; len], lanes)
                .iter()
                .map(|lane| lane.iter().filter(|v| bool::from(v.is_zero())).count())
                .sum();
            let root = crate::commit::root_message(&vec![Fp::ONE; lanes], &Default::default());
            let root_padded = root.len().div_ceil(RATE) * RATE - root.len();
            assert_eq!(
                SpongeConfig::padding(len, lanes),
                padded + lanes * root_padded,
                "{len} in {lanes} lanes"
            );
        }
    }
}
