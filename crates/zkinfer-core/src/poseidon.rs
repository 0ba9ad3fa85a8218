//! Poseidon (P128Pow5T3: width 3, rate 2, x^5, 8 full + 56 partial rounds) outside the circuit.
//!
//! Round constants and the MDS matrix come from `halo2_poseidon`; the sponge follows its
//! `ConstantLength` domain (capacity `len * 2^64`, zero padding to the rate).

use ff::{Field, PrimeField};
use halo2_poseidon::{P128Pow5T3, Spec};
use halo2_proofs::pasta::Fp;

/// State width.
pub const WIDTH: usize = 3;
/// Elements absorbed per permutation.
pub const RATE: usize = 2;
/// Number of full rounds.
pub const FULL_ROUNDS: usize = 8;
/// Number of partial rounds.
pub const PARTIAL_ROUNDS: usize = 56;

/// Round constants and MDS matrix.
#[derive(Clone, Debug)]
pub struct PoseidonConstants {
    /// `FULL_ROUNDS + PARTIAL_ROUNDS` rows of round constants.
    pub round_constants: Vec<[Fp; WIDTH]>,
    /// The MDS matrix.
    pub mds: [[Fp; WIDTH]; WIDTH],
}

impl Default for PoseidonConstants {
    fn default() -> Self {
        let (round_constants, mds, _) = <P128Pow5T3 as Spec<Fp, WIDTH, RATE>>::constants();
        PoseidonConstants {
            round_constants,
            mds,
        }
    }
}

/// `x^5`.
pub fn sbox(x: Fp) -> Fp {
    x.square().square() * x
}

impl PoseidonConstants {
    /// `mds * v`.
    pub fn mix(&self, v: [Fp; WIDTH]) -> [Fp; WIDTH] {
        let mut out = [Fp::ZERO; WIDTH];
        for (o, row) in out.iter_mut().zip(&self.mds) {
            *o = row.iter().zip(&v).map(|(m, x)| *m * x).sum();
        }
        out
    }

    /// One round: add constants, S-box (all lanes if `full`, else lane 0), mix.
    pub fn round(&self, state: [Fp; WIDTH], round: usize, full: bool) -> [Fp; WIDTH] {
        let rc = &self.round_constants[round];
        let mut x = [state[0] + rc[0], state[1] + rc[1], state[2] + rc[2]];
        for (i, v) in x.iter_mut().enumerate() {
            if full || i == 0 {
                *v = sbox(*v);
            }
        }
        self.mix(x)
    }

    /// The Poseidon permutation.
    pub fn permute(&self, mut state: [Fp; WIDTH]) -> [Fp; WIDTH] {
        let half = FULL_ROUNDS / 2;
        for r in 0..FULL_ROUNDS + PARTIAL_ROUNDS {
            let full = r < half || r >= half + PARTIAL_ROUNDS;
            state = self.round(state, r, full);
        }
        state
    }

    /// Capacity element of the `ConstantLength` domain for `len` elements.
    pub fn capacity(len: usize) -> Fp {
        Fp::from_u128((len as u128) << 64)
    }

    /// Hash of `message` (constant-length domain).
    pub fn hash(&self, message: &[Fp]) -> Fp {
        let mut state = [Fp::ZERO, Fp::ZERO, Self::capacity(message.len())];
        for chunk in message.chunks(RATE) {
            state[0] += chunk[0];
            if let Some(m1) = chunk.get(1) {
                state[1] += m1;
            }
            state = self.permute(state);
        }
        state[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_poseidon::{ConstantLength, Hash};

    #[test]
    fn matches_halo2_poseidon() {
        let c = PoseidonConstants::default();
        let msg = [Fp::from(1), Fp::from(2), Fp::from(3), -Fp::from(7)];
        let reference = Hash::<Fp, P128Pow5T3, ConstantLength<4>, 3, 2>::init().hash(msg);
        assert_eq!(c.hash(&msg), reference);
        let msg3 = [Fp::from(9), Fp::from(8), Fp::from(7)];
        let reference = Hash::<Fp, P128Pow5T3, ConstantLength<3>, 3, 2>::init().hash(msg3);
        assert_eq!(c.hash(&msg3), reference);
    }
}
