//! The commitment's salt: a secret random field element absorbed after the weights, so that
//! the public commitment reveals nothing about weights an observer could guess.
//!
//! The circuit absorbs the salt as one free cell, so every field element is a salt: a
//! [`Salt`] is any canonical field element (its 32 little-endian bytes), and a fresh one has 248
//! random bits. Whatever salt a prover used, [`crate::commit::commitment`] reproduces its
//! commitment from the weights and that salt.

use ff::PrimeField;
use halo2_proofs::pasta::Fp;
use rand::rngs::SysRng;
use rand_core::{Rng, UnwrapErr};
use serde::{Deserialize, Serialize};

use crate::CoreError;

/// Bytes of a salt's encoding (a field element, little-endian).
pub const SALT_BYTES: usize = 32;

/// Random bytes of a fresh salt (248 bits: always below the 255-bit modulus).
const RANDOM_BYTES: usize = 31;

/// A commitment salt, kept with the private weights (never in the public spec): the
/// canonical little-endian encoding of a field element.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Salt([u8; SALT_BYTES]);

impl Salt {
    /// A fresh salt from the operating system's random source.
    pub fn random() -> Self {
        let mut bytes = [0u8; SALT_BYTES];
        UnwrapErr(SysRng).fill_bytes(&mut bytes[..RANDOM_BYTES]);
        Salt(bytes)
    }

    /// The salt of a field element.
    pub fn from_field(f: Fp) -> Self {
        Salt(f.to_repr())
    }

    /// The field element the circuit absorbs.
    pub fn to_field(&self) -> Fp {
        // Every constructor keeps the encoding canonical.
        Fp::from_repr(self.0).unwrap_or(Fp::zero())
    }

    /// Lower-case hex of the salt's encoding.
    pub fn to_hex(&self) -> String {
        crate::digest::hex(&self.0)
    }

    /// Parses the hex of a canonical field element's 32 little-endian bytes.
    pub fn from_hex(s: &str) -> Result<Self, CoreError> {
        let bytes = crate::digest::parse_hex::<SALT_BYTES>(s.trim())
            .ok_or_else(|| bad(format!("expected {} hex digits", 2 * SALT_BYTES)))?;
        let salt = Salt(bytes);
        salt.check()?;
        Ok(salt)
    }

    /// Checks that a deserialized salt encodes a field element.
    pub fn check(&self) -> Result<(), CoreError> {
        Option::<Fp>::from(Fp::from_repr(self.0))
            .map(|_| ())
            .ok_or_else(|| bad("not a field element (at or above the modulus)".into()))
    }
}

fn bad(detail: String) -> CoreError {
    CoreError::Format {
        what: "salt",
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_round_trip_through_hex_and_differ() {
        let s = Salt::random();
        assert_eq!(Salt::from_hex(&s.to_hex()).unwrap(), s);
        assert_eq!(Salt::from_field(s.to_field()), s);
        assert_ne!(Salt::random(), s);
        assert!(Salt::from_hex("00").is_err());
        assert!(Salt::from_hex(&"zz".repeat(SALT_BYTES)).is_err());
        // The largest element is a salt; the modulus and above are not.
        let top = Salt::from_field(-Fp::one());
        assert_eq!(Salt::from_hex(&top.to_hex()).unwrap(), top);
        assert!(Salt::from_hex(&"ff".repeat(SALT_BYTES)).is_err());
        assert!(Salt([255; SALT_BYTES]).check().is_err());
    }
}
