//! The one place where signed integers meet field elements.

use ff::PrimeField;
use halo2_proofs::pasta::Fp;

/// Embeds a signed integer into the field (negative values become `p - |v|`).
pub fn fe(v: i64) -> Fp {
    if v >= 0 {
        Fp::from(v as u64)
    } else {
        -Fp::from(v.unsigned_abs())
    }
}

/// Embeds an unsigned 128-bit integer into the field.
pub fn fe_u128(v: u128) -> Fp {
    Fp::from_u128(v)
}

/// Reads a field element back as a signed integer if it lies in `[-2^62, 2^62]`.
pub fn to_i64(f: &Fp) -> Option<i64> {
    let small = |x: &Fp| -> Option<u64> {
        let repr = x.to_repr();
        let bytes: &[u8] = repr.as_ref();
        if bytes[8..].iter().any(|b| *b != 0) {
            return None;
        }
        let mut le = [0u8; 8];
        le.copy_from_slice(&bytes[..8]);
        let v = u64::from_le_bytes(le);
        (v <= 1 << 62).then_some(v)
    };
    if let Some(v) = small(f) {
        return Some(v as i64);
    }
    small(&-*f).map(|v| -(v as i64))
}

/// Little-endian bytes of a field element.
pub fn to_bytes(f: &Fp) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(f.to_repr().as_ref());
    out
}

/// Parses a canonical little-endian field element.
pub fn from_bytes(bytes: [u8; 32]) -> Option<Fp> {
    Option::from(Fp::from_repr(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_round_trip() {
        for v in [0i64, 1, -1, 127, -128, 1 << 40, -(1 << 40)] {
            assert_eq!(to_i64(&fe(v)), Some(v));
        }
        assert_eq!(to_i64(&fe_u128(1u128 << 100)), None);
    }

    #[test]
    fn bytes_round_trip() {
        let f = fe(-12345);
        assert_eq!(from_bytes(to_bytes(&f)), Some(f));
    }
}
