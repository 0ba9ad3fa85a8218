//! Poseidon sponges in `HASH_LANES` parallel lanes, with every gate of degree ≤ 5.
//!
//! Each lane owns 11 advice columns: state `s[3]`, S-box helpers `sq[3]` (`x²`) and `quad[3]`
//! (`x⁴`), and message cells `m[2]`. Lanes run in lockstep and share the fixed round constants
//! `rc_a[3]`, `rc_b[3]`, the capacity column and the selectors. One permutation takes 36 rows:
//!
//! - 4 full rounds, one per row (the first also absorbs `m`): `x = s + m + rc_a`,
//!   `sq = x²`, `quad = sq²`, `s' = MDS · (x · quad)`;
//! - 28 rows of two partial rounds each (rounds `a`, `b`), with `sq[0..2]`, `quad[0..2]` holding
//!   the two lane-0 S-boxes, so the second round's input is a degree-2 expression;
//! - 4 full rounds.
//!
//! The weight message runs through all lanes at once (lane `h` hashes its own run), then every
//! lane hashes the lane digests (the same message in every lane), and lane 0's result is the
//! commitment.

use ff::Field;
use halo2_proofs::circuit::{Layouter, Region, Value};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;

use super::Cell;
use crate::circuit::HASH_LANES;
use crate::poseidon::{PoseidonConstants, FULL_ROUNDS, PARTIAL_ROUNDS, RATE, WIDTH};

/// Rows taken by one permutation.
pub const ROWS_PER_PERMUTATION: usize = FULL_ROUNDS + PARTIAL_ROUNDS / 2;

/// Rows of a sponge absorbing `chunks` rate-sized chunks (the final state row included).
pub fn sponge_rows(chunks: usize) -> usize {
    chunks * ROWS_PER_PERMUTATION + 1
}

/// What one row of a permutation computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// A full round; `absorb` adds the message first.
    Full {
        /// Round index.
        round: usize,
        /// Whether the message is added.
        absorb: bool,
    },
    /// Partial rounds `round` and `round + 1`.
    Partial {
        /// Index of the first of the two rounds.
        round: usize,
    },
}

/// The 36 rows of one permutation.
pub fn schedule() -> Vec<RowKind> {
    let half = FULL_ROUNDS / 2;
    let first = (0..half).map(|r| RowKind::Full {
        round: r,
        absorb: r == 0,
    });
    let partial = (0..PARTIAL_ROUNDS / 2).map(|t| RowKind::Partial {
        round: half + 2 * t,
    });
    let last = (0..half).map(|r| RowKind::Full {
        round: half + PARTIAL_ROUNDS + r,
        absorb: false,
    });
    first.chain(partial).chain(last).collect()
}

/// Advice columns of one lane.
#[derive(Clone, Copy, Debug)]
pub struct LaneColumns {
    /// State.
    pub s: [Column<Advice>; WIDTH],
    /// Squares of the S-box inputs.
    pub sq: [Column<Advice>; WIDTH],
    /// Fourth powers of the S-box inputs.
    pub quad: [Column<Advice>; WIDTH],
    /// Message.
    pub m: [Column<Advice>; RATE],
}

/// Columns, selectors and constants of the sponge chip.
#[derive(Clone, Debug)]
pub struct SpongeConfig {
    /// The lanes.
    pub lanes: Vec<LaneColumns>,
    /// Round constants of full rounds and of the first partial round of a row.
    pub rc_a: [Column<Fixed>; WIDTH],
    /// Round constants of the second partial round of a row.
    pub rc_b: [Column<Fixed>; WIDTH],
    /// Initial capacity element.
    pub cap: Column<Fixed>,
    /// Initial state `(0, 0, cap)`.
    pub q_init: Selector,
    /// Every full round.
    pub q_full: Selector,
    /// Full rounds that absorb nothing (their message cells must be 0).
    pub q_still: Selector,
    /// Two partial rounds.
    pub q_partial: Selector,
    /// Poseidon constants.
    pub constants: PoseidonConstants,
}

/// One row of witness values of a lane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LaneRow {
    /// State at the start of the row.
    pub s: [Fp; WIDTH],
    /// S-box squares.
    pub sq: [Fp; WIDTH],
    /// S-box fourth powers.
    pub quad: [Fp; WIDTH],
    /// Message (absorbing rows).
    pub m: [Fp; RATE],
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

impl SpongeConfig {
    /// Allocates the lanes and creates their gates.
    pub fn configure(meta: &mut ConstraintSystem<Fp>) -> Self {
        let mut col = || meta.advice_column();
        let lanes: Vec<LaneColumns> = (0..HASH_LANES)
            .map(|_| LaneColumns {
                s: [col(), col(), col()],
                sq: [col(), col(), col()],
                quad: [col(), col(), col()],
                m: [col(), col()],
            })
            .collect();
        for l in &lanes {
            for c in l.m.iter().chain(&l.s[..1]) {
                meta.enable_equality(*c);
            }
        }
        let rc_a = [(); WIDTH].map(|_| meta.fixed_column());
        let rc_b = [(); WIDTH].map(|_| meta.fixed_column());
        let cap = meta.fixed_column();
        let cfg = SpongeConfig {
            lanes,
            rc_a,
            rc_b,
            cap,
            q_init: meta.selector(),
            q_full: meta.selector(),
            q_still: meta.selector(),
            q_partial: meta.selector(),
            constants: PoseidonConstants::default(),
        };
        for lane in cfg.lanes.clone() {
            cfg.lane_gates(meta, lane);
        }
        cfg
    }

    fn lane_gates(&self, meta: &mut ConstraintSystem<Fp>, l: LaneColumns) {
        let mds = self.constants.mds;
        let mix = move |v: [Expression<Fp>; WIDTH]| -> [Expression<Fp>; WIDTH] {
            std::array::from_fn(|j| {
                (0..WIDTH).fold(constant(Fp::ZERO), |acc, k| {
                    acc + v[k].clone() * constant(mds[j][k])
                })
            })
        };
        let c = self.clone();
        meta.create_gate("poseidon init", move |m| {
            let q = m.query_selector(c.q_init);
            let s = l.s.map(|col| m.query_advice(col, Rotation::cur()));
            let cap = m.query_fixed(c.cap);
            vec![
                q.clone() * s[0].clone(),
                q.clone() * s[1].clone(),
                q * (s[2].clone() - cap),
            ]
        });
        let c = self.clone();
        meta.create_gate("poseidon full round", move |m| {
            let q = m.query_selector(c.q_full);
            let q_still = m.query_selector(c.q_still);
            let s = l.s.map(|col| m.query_advice(col, Rotation::cur()));
            let next = l.s.map(|col| m.query_advice(col, Rotation::next()));
            let sq = l.sq.map(|col| m.query_advice(col, Rotation::cur()));
            let quad = l.quad.map(|col| m.query_advice(col, Rotation::cur()));
            let msg = l.m.map(|col| m.query_advice(col, Rotation::cur()));
            let rc = c.rc_a.map(|col| m.query_fixed(col));
            let x: [Expression<Fp>; WIDTH] = std::array::from_fn(|k| {
                let base = s[k].clone() + rc[k].clone();
                if k < RATE {
                    base + msg[k].clone()
                } else {
                    base
                }
            });
            let y: [Expression<Fp>; WIDTH] =
                std::array::from_fn(|k| x[k].clone() * quad[k].clone());
            let mixed = mix(y);
            let mut out = Vec::with_capacity(4 * WIDTH);
            for k in 0..WIDTH {
                out.push(q.clone() * (sq[k].clone() - x[k].clone() * x[k].clone()));
                out.push(q.clone() * (quad[k].clone() - sq[k].clone() * sq[k].clone()));
                out.push(q.clone() * (next[k].clone() - mixed[k].clone()));
            }
            for msg_k in msg {
                out.push(q_still.clone() * msg_k);
            }
            out
        });
        let c = self.clone();
        meta.create_gate("poseidon partial rounds", move |m| {
            let q = m.query_selector(c.q_partial);
            let s = l.s.map(|col| m.query_advice(col, Rotation::cur()));
            let next = l.s.map(|col| m.query_advice(col, Rotation::next()));
            let sq = l.sq.map(|col| m.query_advice(col, Rotation::cur()));
            let quad = l.quad.map(|col| m.query_advice(col, Rotation::cur()));
            let rc_a = c.rc_a.map(|col| m.query_fixed(col));
            let rc_b = c.rc_b.map(|col| m.query_fixed(col));
            let xa = s[0].clone() + rc_a[0].clone();
            let t = mix([
                xa.clone() * quad[0].clone(),
                s[1].clone() + rc_a[1].clone(),
                s[2].clone() + rc_a[2].clone(),
            ]);
            let xb = t[0].clone() + rc_b[0].clone();
            let after = mix([
                xb.clone() * quad[1].clone(),
                t[1].clone() + rc_b[1].clone(),
                t[2].clone() + rc_b[2].clone(),
            ]);
            let mut out = vec![
                q.clone() * (sq[0].clone() - xa.clone() * xa),
                q.clone() * (quad[0].clone() - sq[0].clone() * sq[0].clone()),
                q.clone() * (sq[1].clone() - xb.clone() * xb),
                q.clone() * (quad[1].clone() - sq[1].clone() * sq[1].clone()),
            ];
            for k in 0..WIDTH {
                out.push(q.clone() * (next[k].clone() - after[k].clone()));
            }
            out
        });
    }

    /// Witness rows of one sponge over `msg` (length a multiple of `RATE`).
    fn trace(&self, cap: Fp, msg: &[Fp]) -> Vec<LaneRow> {
        let c = &self.constants;
        let mut rows = Vec::with_capacity(sponge_rows(msg.len() / RATE));
        let mut s = [Fp::ZERO, Fp::ZERO, cap];
        for chunk in msg.chunks(RATE) {
            for kind in schedule() {
                let mut row = LaneRow {
                    s,
                    ..Default::default()
                };
                match kind {
                    RowKind::Full { round, absorb } => {
                        if absorb {
                            row.m = [chunk[0], chunk[1]];
                        }
                        let rc = c.round_constants[round];
                        let x: [Fp; WIDTH] = std::array::from_fn(|k| {
                            s[k] + rc[k] + row.m.get(k).copied().unwrap_or(Fp::ZERO)
                        });
                        row.sq = x.map(|v| v.square());
                        row.quad = row.sq.map(|v| v.square());
                        s = c.mix(std::array::from_fn(|k| x[k] * row.quad[k]));
                    }
                    RowKind::Partial { round } => {
                        let (ra, rb) = (c.round_constants[round], c.round_constants[round + 1]);
                        let xa = s[0] + ra[0];
                        row.sq[0] = xa.square();
                        row.quad[0] = row.sq[0].square();
                        let t = c.mix([xa * row.quad[0], s[1] + ra[1], s[2] + ra[2]]);
                        let xb = t[0] + rb[0];
                        row.sq[1] = xb.square();
                        row.quad[1] = row.sq[1].square();
                        s = c.mix([xb * row.quad[1], t[1] + rb[1], t[2] + rb[2]]);
                    }
                }
                rows.push(row);
            }
        }
        rows.push(LaneRow {
            s,
            ..Default::default()
        });
        rows
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
        region.assign_fixed(|| "cap", self.cap, start, || Value::known(cap))?;
        let rcs = &self.constants.round_constants;
        for p in 0..chunks {
            for (i, kind) in schedule().into_iter().enumerate() {
                let row = start + p * ROWS_PER_PERMUTATION + i;
                let (a, b) = match kind {
                    RowKind::Full { round, absorb } => {
                        self.q_full.enable(region, row)?;
                        if !absorb {
                            self.q_still.enable(region, row)?;
                        }
                        (rcs[round], [Fp::ZERO; WIDTH])
                    }
                    RowKind::Partial { round } => {
                        self.q_partial.enable(region, row)?;
                        (rcs[round], rcs[round + 1])
                    }
                };
                for k in 0..WIDTH {
                    region.assign_fixed(|| "rc_a", self.rc_a[k], row, || Value::known(a[k]))?;
                    region.assign_fixed(|| "rc_b", self.rc_b[k], row, || Value::known(b[k]))?;
                }
            }
        }
        Ok(())
    }

    /// Assigns one lane's sponge; `msg_cells[i]` (if any) is copied into message slot `i`.
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
        let mut last = None;
        for i in 0..n {
            let row = rows.map(|r| r[i]);
            let v = |f: fn(&LaneRow) -> Fp| {
                row.as_ref()
                    .map(f)
                    .map(Value::known)
                    .unwrap_or(Value::unknown())
            };
            let at = start + i;
            let s0 = region.assign_advice(|| "s0", lane.s[0], at, || v(|r| r.s[0]))?;
            region.assign_advice(|| "s1", lane.s[1], at, || v(|r| r.s[1]))?;
            region.assign_advice(|| "s2", lane.s[2], at, || v(|r| r.s[2]))?;
            if i + 1 == n {
                last = Some(s0);
                break;
            }
            for k in 0..WIDTH {
                let sq = row
                    .map(|r| r.sq[k])
                    .map(Value::known)
                    .unwrap_or(Value::unknown());
                let quad = row
                    .map(|r| r.quad[k])
                    .map(Value::known)
                    .unwrap_or(Value::unknown());
                region.assign_advice(|| "sq", lane.sq[k], at, || sq)?;
                region.assign_advice(|| "quad", lane.quad[k], at, || quad)?;
            }
            let absorb_slot =
                (i % ROWS_PER_PERMUTATION == 0).then_some(i / ROWS_PER_PERMUTATION * RATE);
            for k in 0..RATE {
                match absorb_slot.and_then(|slot| msg_cells.get(slot + k).copied().flatten()) {
                    Some(cell) => {
                        cell.copy_advice(|| "m", region, lane.m[k], at)?;
                    }
                    None => {
                        let m = row
                            .map(|r| r.m[k])
                            .map(Value::known)
                            .unwrap_or(Value::unknown());
                        region.assign_advice(|| "m", lane.m[k], at, || m)?;
                    }
                }
            }
        }
        last.ok_or(Error::Synthesis)
    }

    /// Witness rows for hashing `message` (the committed values, in order).
    pub fn witness(&self, message: &[Fp]) -> SpongeWitness {
        let lane_cap =
            PoseidonConstants::capacity(crate::commit::lane_chunks(message.len()) * RATE);
        let lanes: Vec<Vec<LaneRow>> = crate::commit::lanes(message)
            .iter()
            .map(|m| self.trace(lane_cap, m))
            .collect();
        let digests: Vec<Fp> = lanes.iter().map(|r| r[r.len() - 1].s[0]).collect();
        let root = self.trace(PoseidonConstants::capacity(HASH_LANES), &digests);
        SpongeWitness { lanes, root }
    }

    /// Hashes `message` (cells, in commitment order) and returns the commitment cell.
    /// `witness` holds the rows when proving.
    pub fn commit(
        &self,
        layouter: &mut impl Layouter<Fp>,
        message: &[Cell],
        witness: Option<&SpongeWitness>,
    ) -> Result<Cell, Error> {
        let chunks = crate::commit::lane_chunks(message.len());
        let per_lane = chunks * RATE;
        let root_chunks = HASH_LANES.div_ceil(RATE);
        let lane_cap = PoseidonConstants::capacity(per_lane);
        let root_cap = PoseidonConstants::capacity(HASH_LANES);
        let lane_rows = witness.map(|w| &w.lanes);
        let root_rows = witness.map(|w| &w.root);
        let root_start = sponge_rows(chunks);
        layouter.assign_region(
            || "weight commitment",
            |mut region| {
                self.assign_schedule(&mut region, 0, chunks, lane_cap)?;
                self.assign_schedule(&mut region, root_start, root_chunks, root_cap)?;
                let mut digests = Vec::with_capacity(HASH_LANES);
                for (h, lane) in self.lanes.iter().enumerate() {
                    let cells: Vec<Option<&Cell>> = (0..per_lane)
                        .map(|i| message.get(h * per_lane + i))
                        .collect();
                    let rows = lane_rows.and_then(|r| r.get(h)).map(|r| &r[..]);
                    digests.push(self.assign_lane(&mut region, lane, 0, rows, chunks, &cells)?);
                }
                let digest_refs: Vec<Option<&Cell>> = digests.iter().map(Some).collect();
                let mut root = None;
                for lane in &self.lanes {
                    let out = self.assign_lane(
                        &mut region,
                        lane,
                        root_start,
                        root_rows.map(|r| &r[..]),
                        root_chunks,
                        &digest_refs,
                    )?;
                    root.get_or_insert(out);
                }
                root.ok_or(Error::Synthesis)
            },
        )
    }

    /// Rows the commitment region takes for a message of `len` elements.
    pub fn rows(len: usize) -> usize {
        sponge_rows(crate::commit::lane_chunks(len)) + sponge_rows(HASH_LANES.div_ceil(RATE))
    }
}
