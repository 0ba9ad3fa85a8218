#!/usr/bin/env bash
# Side-by-side EZKL vs zkinfer on the reference models (see scripts/compare_ezkl.py).
# Installs ezkl from PyPI into a virtualenv (default .venv-ezkl), builds the zkinfer CLI, runs.
#   scripts/compare_ezkl.sh [--reps N] [--ezkl-params fixed,hashed] [--ezkl-mem-gb N]
#                           [--zkinfer-weights private,public] [circuits/MODEL ...]
# Prints one table per model with a column per setting (by default all four).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${EZKL_VENV:-.venv-ezkl}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet ezkl onnx numpy
fi
cargo build --release -p zkinfer-cli
exec "$venv/bin/python" scripts/compare_ezkl.py "$@"
