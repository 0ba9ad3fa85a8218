//! The commitment's salt: 31 secret random bytes absorbed after the weights, so that the
//! public commitment reveals nothing about weights an observer could guess.

use ff::PrimeField;
use halo2_proofs::pasta::Fp;
use rand::rngs::SysRng;
use rand_core::{Rng, UnwrapErr};
use serde::{Deserialize, Serialize};

use crate::CoreError;

/// Bytes of a salt (248 bits: every salt is a field element below the modulus).
pub const SALT_BYTES: usize = 31;

/// A commitment salt, kept with the private weights (never in the public spec).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Salt(pub [u8; SALT_BYTES]);

impl Salt {
    /// A fresh salt from the operating system's random source.
    pub fn random() -> Self {
        let mut bytes = [0u8; SALT_BYTES];
        UnwrapErr(SysRng).fill_bytes(&mut bytes);
        Salt(bytes)
    }

    /// The salt as the field element it is absorbed as (its bytes, little-endian).
    pub fn to_field(&self) -> Fp {
        let mut repr = [0u8; 32];
        repr[..SALT_BYTES].copy_from_slice(&self.0);
        // 248 bits always lie below the 255-bit modulus.
        Fp::from_repr(repr).unwrap_or(Fp::zero())
    }

    /// Lower-case hex of the salt's bytes.
    pub fn to_hex(&self) -> String {
        crate::digest::hex(&self.0)
    }

    /// Parses the hex of exactly [`SALT_BYTES`] bytes.
    pub fn from_hex(s: &str) -> Result<Self, CoreError> {
        crate::digest::parse_hex::<SALT_BYTES>(s.trim())
            .map(Salt)
            .ok_or_else(|| CoreError::Format {
                what: "salt",
                detail: format!("expected {} hex digits", 2 * SALT_BYTES),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_round_trip_through_hex_and_differ() {
        let s = Salt::random();
        assert_eq!(Salt::from_hex(&s.to_hex()).unwrap(), s);
        assert_ne!(Salt::random(), s);
        assert!(Salt::from_hex("00").is_err());
        assert!(Salt::from_hex(&"zz".repeat(SALT_BYTES)).is_err());
        assert_eq!(
            Salt([255; SALT_BYTES]).to_field().to_repr()[..SALT_BYTES],
            [255; SALT_BYTES]
        );
    }
}
