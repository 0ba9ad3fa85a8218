//! The row program of one Poseidon permutation in the sponge chip, and the affine forms that
//! let one row carry several rounds.
//!
//! A permutation takes [`ROWS_PER_PERMUTATION`] = 12 rows: two rows of two full rounds, eight
//! rows of seven partial rounds, two rows of two full rounds. In a partial row only lane 0 goes
//! through the S-box, so every later value of the row is an affine function of the row's state
//! cells and its S-box output cells `y_t`: the gate uses the linear part (same for all rows) and
//! a fixed column carries the constant part (round constants, different per row).

use ff::Field;
use halo2_proofs::pasta::Fp;

use crate::poseidon::{PoseidonConstants, FULL_ROUNDS, PARTIAL_ROUNDS, WIDTH};

/// Partial rounds per row.
pub const PARTIAL_PER_ROW: usize = 7;
/// Full rounds per row.
pub const FULL_PER_ROW: usize = 2;
/// Rows of one permutation.
pub const ROWS_PER_PERMUTATION: usize =
    FULL_ROUNDS / FULL_PER_ROW + PARTIAL_ROUNDS / PARTIAL_PER_ROW;
/// Helper cells per row (`x⁴` and `x⁵` of each S-box).
pub const AUX: usize = 2 * PARTIAL_PER_ROW;
/// Variables of a partial row's affine forms: the three state cells, then the `y_t` cells.
pub const VARS: usize = WIDTH + PARTIAL_PER_ROW;
/// Fixed constants per row: one per S-box input of a partial row.
pub const X_CONSTANTS: usize = PARTIAL_PER_ROW;

/// What one row of a permutation computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// Full rounds `round` and `round + 1`; `absorb` adds the message first.
    Full {
        /// First round of the row.
        round: usize,
        /// Whether the message is added.
        absorb: bool,
    },
    /// Partial rounds `round .. round + PARTIAL_PER_ROW`.
    Partial {
        /// First round of the row.
        round: usize,
    },
}

/// The rows of one permutation.
pub fn schedule() -> Vec<RowKind> {
    let half = FULL_ROUNDS / 2;
    let first = (0..half).step_by(FULL_PER_ROW).map(|r| RowKind::Full {
        round: r,
        absorb: r == 0,
    });
    let partial = (0..PARTIAL_ROUNDS / PARTIAL_PER_ROW).map(|t| RowKind::Partial {
        round: half + PARTIAL_PER_ROW * t,
    });
    let last = (0..half).step_by(FULL_PER_ROW).map(|r| RowKind::Full {
        round: half + PARTIAL_ROUNDS + r,
        absorb: false,
    });
    first.chain(partial).chain(last).collect()
}

/// Linear parts of a partial row: the S-box inputs `x_t` and the outputs, over [`VARS`].
#[derive(Clone, Debug)]
pub struct PartialForms {
    /// `x_t = x[t] · vars + c_t`.
    pub x: [[Fp; VARS]; PARTIAL_PER_ROW],
    /// `next_j = out[j] · vars + o_j`.
    pub out: [[Fp; VARS]; WIDTH],
}

fn mix_forms(mds: &[[Fp; WIDTH]; WIDTH], v: [[Fp; VARS]; WIDTH]) -> [[Fp; VARS]; WIDTH] {
    std::array::from_fn(|j| std::array::from_fn(|i| (0..WIDTH).map(|k| mds[j][k] * v[k][i]).sum()))
}

impl PartialForms {
    /// Derives the forms from the MDS matrix.
    pub fn new(mds: &[[Fp; WIDTH]; WIDTH]) -> Self {
        let unit = |i: usize| -> [Fp; VARS] {
            std::array::from_fn(|j| if i == j { Fp::ONE } else { Fp::ZERO })
        };
        let mut v = [unit(0), unit(1), unit(2)];
        let mut x = [[Fp::ZERO; VARS]; PARTIAL_PER_ROW];
        for (t, xt) in x.iter_mut().enumerate() {
            *xt = v[0];
            v = mix_forms(mds, [unit(WIDTH + t), v[1], v[2]]);
        }
        PartialForms { x, out: v }
    }
}

/// Constant parts of a partial row starting at `round`: `(c_t, o_j)`.
pub fn partial_constants(c: &PoseidonConstants, round: usize) -> ([Fp; X_CONSTANTS], [Fp; WIDTH]) {
    let mut v = [Fp::ZERO; WIDTH];
    let mut xc = [Fp::ZERO; X_CONSTANTS];
    for (t, x) in xc.iter_mut().enumerate() {
        let rc = c.round_constants[round + t];
        *x = v[0] + rc[0];
        v = c.mix([Fp::ZERO, v[1] + rc[1], v[2] + rc[2]]);
    }
    (xc, v)
}

/// Fixed constants of a row: `(c, o)`.
pub fn row_constants(c: &PoseidonConstants, kind: RowKind) -> ([Fp; X_CONSTANTS], [Fp; WIDTH]) {
    match kind {
        RowKind::Full { round, .. } => {
            let mut xc = [Fp::ZERO; X_CONSTANTS];
            xc[..WIDTH].copy_from_slice(&c.round_constants[round]);
            xc[WIDTH..2 * WIDTH].copy_from_slice(&c.round_constants[round + 1]);
            (xc, [Fp::ZERO; WIDTH])
        }
        RowKind::Partial { round } => partial_constants(c, round),
    }
}

/// One row of witness values of a lane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LaneRow {
    /// State at the start of the row.
    pub s: [Fp; WIDTH],
    /// Helper cells: `x⁴`, `x⁵` of each S-box in order.
    pub aux: [Fp; AUX],
    /// Message (absorbing rows; 0 elsewhere, but the final row's `m[0]`, the digest `s[0]`).
    pub m: [Fp; 2],
}

/// Computes one row from its starting state; returns the row and the next state.
pub fn run_row(
    c: &PoseidonConstants,
    kind: RowKind,
    s: [Fp; WIDTH],
    m: [Fp; 2],
) -> (LaneRow, [Fp; WIDTH]) {
    let mut row = LaneRow {
        s,
        m,
        ..Default::default()
    };
    let (xc, _) = row_constants(c, kind);
    match kind {
        RowKind::Full { absorb, .. } => {
            let mut v = s;
            if absorb {
                v[0] += m[0];
                v[1] += m[1];
            } else {
                row.m = [Fp::ZERO; 2];
            }
            for r in 0..FULL_PER_ROW {
                let y: [Fp; WIDTH] = std::array::from_fn(|k| {
                    let x = v[k] + xc[r * WIDTH + k];
                    let quad = x.square().square();
                    row.aux[2 * (r * WIDTH + k)] = quad;
                    row.aux[2 * (r * WIDTH + k) + 1] = x * quad;
                    x * quad
                });
                v = c.mix(y);
            }
            (row, v)
        }
        RowKind::Partial { round } => {
            row.m = [Fp::ZERO; 2];
            let mut v = s;
            for t in 0..PARTIAL_PER_ROW {
                let rc = c.round_constants[round + t];
                let x = v[0] + rc[0];
                let quad = x.square().square();
                row.aux[2 * t] = quad;
                row.aux[2 * t + 1] = x * quad;
                v = c.mix([x * quad, v[1] + rc[1], v[2] + rc[2]]);
            }
            (row, v)
        }
    }
}

/// Witness rows of one sponge over `msg` (zero-padded to a multiple of 2) with capacity
/// `cap`; the last row holds only the final state and the digest (its `s[0]`) in `m[0]`.
pub fn trace(c: &PoseidonConstants, cap: Fp, msg: &[Fp]) -> Vec<LaneRow> {
    let mut rows = Vec::with_capacity(msg.len().div_ceil(2) * ROWS_PER_PERMUTATION + 1);
    let mut s = [Fp::ZERO, Fp::ZERO, cap];
    for chunk in msg.chunks(2) {
        let pair = [chunk[0], chunk.get(1).copied().unwrap_or(Fp::ZERO)];
        for kind in schedule() {
            let (row, next) = run_row(c, kind, s, pair);
            rows.push(row);
            s = next;
        }
    }
    rows.push(LaneRow {
        s,
        m: [s[0], Fp::ZERO],
        ..Default::default()
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_compute_the_permutation() {
        let c = PoseidonConstants::default();
        let msg = [Fp::from(3), Fp::from(5), -Fp::from(11), Fp::from(2)];
        let rows = trace(&c, PoseidonConstants::capacity(4), &msg);
        assert_eq!(rows.len(), 2 * ROWS_PER_PERMUTATION + 1);
        assert_eq!(rows[rows.len() - 1].s[0], c.hash(&msg));
    }

    #[test]
    fn affine_forms_match_the_rows() {
        let c = PoseidonConstants::default();
        let forms = PartialForms::new(&c.mds);
        let s = [Fp::from(7), Fp::from(9), Fp::from(13)];
        let kind = RowKind::Partial { round: 11 };
        let (row, next) = run_row(&c, kind, s, [Fp::ZERO; 2]);
        let (xc, o) = row_constants(&c, kind);
        let vars: Vec<Fp> = s
            .iter()
            .copied()
            .chain((0..PARTIAL_PER_ROW).map(|t| row.aux[2 * t + 1]))
            .collect();
        let eval = |f: &[Fp; VARS]| -> Fp { f.iter().zip(&vars).map(|(a, b)| *a * b).sum() };
        for (t, c) in xc.iter().enumerate().take(PARTIAL_PER_ROW) {
            let x = eval(&forms.x[t]) + c;
            assert_eq!(x.square().square(), row.aux[2 * t]);
        }
        for j in 0..WIDTH {
            assert_eq!(eval(&forms.out[j]) + o[j], next[j]);
        }
    }

    #[test]
    fn schedule_covers_all_rounds() {
        let rounds: usize = schedule()
            .iter()
            .map(|k| match k {
                RowKind::Full { .. } => FULL_PER_ROW,
                RowKind::Partial { .. } => PARTIAL_PER_ROW,
            })
            .sum();
        assert_eq!(rounds, FULL_ROUNDS + PARTIAL_ROUNDS);
        assert_eq!(schedule().len(), ROWS_PER_PERMUTATION);
    }
}
