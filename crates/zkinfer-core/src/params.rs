//! IPA parameters: generated once per `k` (deterministic, no trusted setup), cached on disk and
//! checked by digest.
//!
//! Cache directory: `$ZKINFER_PARAMS_DIR`, else `$XDG_CACHE_HOME/zkinfer/params`, else
//! `$HOME/.cache/zkinfer/params`, else `.zkinfer-params` in the working directory.
//! Each file `ipa-vesta-k<K>.params` has a sidecar `.blake2b` with its digest, written at
//! generation and checked at every load; a missing or mismatching file is regenerated.

use std::fs;
use std::path::{Path, PathBuf};

use halo2_proofs::pasta::EqAffine;
use halo2_proofs::poly::commitment::Params;

use crate::digest::{blake2b256, hex};
use crate::progress::{run_stage, Progress, Stage};
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
        let bytes = fs::read(self.path(k)).ok()?;
        let expected = fs::read_to_string(self.path(k).with_extension("blake2b")).ok()?;
        if expected.trim() != digest_of(&bytes) {
            return None;
        }
        let params = Params::<EqAffine>::read(&mut &bytes[..]).ok()?;
        (params.k() == k).then_some(params)
    }

    /// Loads the parameters for `k`, generating and caching them if needed.
    pub fn load(&self, k: u32, progress: &dyn Progress) -> Result<Params<EqAffine>, CoreError> {
        if let Some(p) = self.try_read(k) {
            return Ok(p);
        }
        let params = run_stage(progress, Stage::ParamsGeneration { k }, || {
            Params::<EqAffine>::new(k)
        });
        let mut bytes = Vec::with_capacity(64 << k);
        params.write(&mut bytes).map_err(CoreError::io(&self.dir))?;
        fs::create_dir_all(&self.dir).map_err(CoreError::io(&self.dir))?;
        let path = self.path(k);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        fs::write(&tmp, &bytes).map_err(CoreError::io(&tmp))?;
        fs::rename(&tmp, &path).map_err(CoreError::io(&path))?;
        let sidecar = path.with_extension("blake2b");
        fs::write(&sidecar, digest_of(&bytes)).map_err(CoreError::io(&sidecar))?;
        Ok(params)
    }
}
