//! Progress reporting hooks, so that front ends can draw bars without the library printing.

/// A long-running stage of compiling, proving or verifying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Generating IPA parameters for `2^k` rows (done once per `k`, then cached).
    ParamsGeneration {
        /// log2 of the domain size.
        k: u32,
    },
    /// Building the verifying and proving keys.
    KeyGeneration,
    /// Creating a proof.
    Proving,
    /// Checking a proof.
    Verifying,
}

/// Receives stage boundaries. Implementations must be cheap; they are called from the caller's thread.
pub trait Progress {
    /// A stage begins.
    fn start(&self, stage: Stage);
    /// The stage that began last has ended.
    fn finish(&self, stage: Stage);
}

/// Reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: Stage) {}
    fn finish(&self, _: Stage) {}
}

/// Runs `f` between `start` and `finish` of `stage`.
pub fn run_stage<T>(progress: &dyn Progress, stage: Stage, f: impl FnOnce() -> T) -> T {
    progress.start(stage);
    let out = f();
    progress.finish(stage);
    out
}
