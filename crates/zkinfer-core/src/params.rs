//! IPA parameters: generated once per `k` (deterministic, no trusted setup), cached on disk and
//! checked by digest.
//!
//! Cache directory: `$ZKINFER_PARAMS_DIR`, else `$XDG_CACHE_HOME/zkinfer/params`, else
//! `$HOME/.cache/zkinfer/params`, else `.zkinfer-params` in the working directory.
//! Each file `ipa-vesta-k<K>.params` is checked at every load against a BLAKE2b digest pinned
//! in this source for every `k` a spec may have ([`MIN_K`]..=[`MAX_K`]; parameters are
//! deterministic, so every machine computes the same bytes). The digest covers the whole file:
//! the generators `g`, their Lagrange basis, `w` and `u`. A missing or mismatching file is
//! regenerated, a generated file must match its pinned digest, and a `k` without a pinned
//! digest is refused: nothing beside the file in the cache is trusted.

use std::fs;
use std::path::{Path, PathBuf};

use halo2_proofs::pasta::EqAffine;
use halo2_proofs::poly::commitment::Params;

use crate::digest::{blake2b256, hex};
use crate::progress::{run_stage, Progress, Stage};
use crate::spec::{MAX_K, MIN_K};
use crate::CoreError;

/// A directory of cached parameters.
#[derive(Clone, Debug)]
pub struct ParamsStore {
    dir: PathBuf,
}

/// The default cache directory (see the module docs).
pub fn default_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = env("ZKINFER_PARAMS_DIR") {
        return d;
    }
    if let Some(d) = env("XDG_CACHE_HOME") {
        return d.join("zkinfer").join("params");
    }
    if let Some(h) = env("HOME") {
        return h.join(".cache").join("zkinfer").join("params");
    }
    PathBuf::from(".zkinfer-params")
}

impl Default for ParamsStore {
    fn default() -> Self {
        ParamsStore { dir: default_dir() }
    }
}

/// Digests of the parameters for every `k` from [`MIN_K`] to [`MAX_K`], as
/// `Params::new(k).write` produces them with halo2_proofs 0.4.1.
const PINNED: &[(u32, &str)] = &[
    (
        9,
        "ec248e16ab456e004e78e209c2acc90c1fa4076998a62595880b2c36cb30bbbd",
    ),
    (
        10,
        "b2c2b791003ebc8c475572256c327323957ca5fa3c7e86a635be4a7203813cb8",
    ),
    (
        11,
        "50c680b44047089774bfabf95ce34782036628bbf5297ec57c3eb4d232936737",
    ),
    (
        12,
        "8ad30e58687f53e08f0b70c5d4c9a76af2cd40b7313558f248569a8388b401db",
    ),
    (
        13,
        "0274b79774676a9bf641f3f82401eb50aaa54d1fe9b5fd1f2e1c1ecf31775841",
    ),
    (
        14,
        "87e05a37223899e7a6720f34285dc5e2e31d59cc085ac1092b3ddc5bbacd24af",
    ),
    (
        15,
        "4b3afeba6b784feaf38e71bce865dfbdd10ed6bd1bba30d54cdfa73102cd1cb7",
    ),
    (
        16,
        "f12e21b69fe862ef523269c37297af825f9df8b6247e36fe9f50b29f3865b23f",
    ),
    (
        17,
        "4a652fd83093e4eb4635255e6a1ac0cc21e125f9b71371459b66313bdda4db73",
    ),
    (
        18,
        "42fe11b788ca23399f209d61576e2d3612beaadc97e00254823b805f958a9cb6",
    ),
];

fn pinned(k: u32) -> Option<&'static str> {
    PINNED.iter().find(|(pk, _)| *pk == k).map(|(_, d)| *d)
}

fn digest_of(bytes: &[u8]) -> String {
    hex(&blake2b256(b"zkinfer-params", bytes))
}

impl ParamsStore {
    /// A store in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ParamsStore { dir: dir.into() }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the parameters for `k`.
    pub fn path(&self, k: u32) -> PathBuf {
        self.dir.join(format!("ipa-vesta-k{k}.params"))
    }

    fn try_read(&self, k: u32) -> Option<Params<EqAffine>> {
        let expected = pinned(k)?;
        let bytes = fs::read(self.path(k)).ok()?;
        if expected != digest_of(&bytes) {
            return None;
        }
        let params = Params::<EqAffine>::read(&mut &bytes[..]).ok()?;
        (params.k() == k).then_some(params)
    }

    /// Loads the parameters for `k`, generating and caching them if needed.
    pub fn load(&self, k: u32, progress: &dyn Progress) -> Result<Params<EqAffine>, CoreError> {
        let Some(expected) = pinned(k) else {
            return Err(CoreError::Format {
                what: "IPA parameters",
                detail: format!("k = {k} has no pinned digest (supported: {MIN_K} to {MAX_K})"),
            });
        };
        if let Some(p) = self.try_read(k) {
            return Ok(p);
        }
        let params = run_stage(progress, Stage::ParamsGeneration { k }, || {
            Params::<EqAffine>::new(k)
        });
        let mut bytes = Vec::with_capacity(64 << k);
        params.write(&mut bytes).map_err(CoreError::io(&self.dir))?;
        let digest = digest_of(&bytes);
        if digest != expected {
            return Err(CoreError::Format {
                what: "IPA parameters",
                detail: format!(
                    "generated k = {k} parameters hash to {digest}, not the pinned {expected}"
                ),
            });
        }
        fs::create_dir_all(&self.dir).map_err(CoreError::io(&self.dir))?;
        let path = self.path(k);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        fs::write(&tmp, &bytes).map_err(CoreError::io(&tmp))?;
        fs::rename(&tmp, &path).map_err(CoreError::io(&path))?;
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    #[test]
    fn generated_params_match_the_pinned_digest_and_tampering_is_caught() {
        let dir = std::env::temp_dir().join(format!("zkinfer-params-test-{}", std::process::id()));
        let store = ParamsStore::new(&dir);
        let p = store.load(10, &Silent).unwrap();
        assert_eq!(p.k(), 10);
        // A corrupted file (even with a sidecar digest beside it) fails the pinned digest and
        // is regenerated.
        let mut bytes = fs::read(store.path(10)).unwrap();
        bytes[100] ^= 1;
        fs::write(store.path(10), &bytes).unwrap();
        fs::write(store.path(10).with_extension("blake2b"), digest_of(&bytes)).unwrap();
        assert!(store.try_read(10).is_none());
        assert_eq!(store.load(10, &Silent).unwrap().k(), 10);
        assert!(store.try_read(10).is_some());
        // Every k a spec may have is pinned, and no other.
        for k in MIN_K..=MAX_K {
            assert!(pinned(k).is_some(), "k = {k}");
        }
        assert!(pinned(MAX_K + 1).is_none() && pinned(MIN_K - 1).is_none());
        // The smallest k's parameters, generated here, match their pin too.
        assert_eq!(store.load(MIN_K, &Silent).unwrap().k(), MIN_K);
        assert!(store.try_read(MIN_K).is_some());
        assert!(matches!(
            store.load(MAX_K + 1, &Silent),
            Err(CoreError::Format { .. })
        ));
        fs::remove_dir_all(&dir).ok();
    }

    /// Prints the digests of freshly generated parameters for `ZKINFER_PIN_K=lo-hi` (the
    /// values [`PINNED`] holds).
    #[test]
    #[ignore = "a generator for PINNED, run on demand: k = 17 and 18 take minutes each"]
    fn print_generated_digests() {
        let range = std::env::var("ZKINFER_PIN_K").unwrap_or_else(|_| "10-10".into());
        let (lo, hi) = range.split_once('-').unwrap();
        for k in lo.parse::<u32>().unwrap()..=hi.parse().unwrap() {
            let mut bytes = Vec::new();
            Params::<EqAffine>::new(k).write(&mut bytes).unwrap();
            println!("({k}, \"{}\"),", digest_of(&bytes));
        }
    }
}
