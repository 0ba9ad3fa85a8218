#!/usr/bin/env bash
# Bounded fuzzing of the three cargo-fuzz targets (spec parsing, proof-bundle decoding and
# verification, ONNX loading) from the committed corpus; new inputs go to a scratch directory,
# not the corpus. Needs a nightly toolchain and cargo-fuzz (installed if missing). The
# instrumented build takes about ten minutes from scratch on two cores, so this runs beside
# CI, not in it; the default test command replays the corpus (tests/fuzz_corpus.rs).
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
rustup toolchain list | grep -q '^nightly' || { echo "needs a nightly toolchain" >&2; exit 2; }
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cd fuzz
for target in spec_json proof_bundle onnx_model; do
  mkdir -p "$scratch/$target"
  cargo +nightly fuzz run "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=262144
done
