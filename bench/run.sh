#!/usr/bin/env bash
# make bench: every benchmark side by side with its Python peer, in one run.
# Results: bench/out/*.json and *.md; BENCHMARKS.md quotes them.
set -euo pipefail
BIN=$(realpath "${1:-.build/release/alaverify}")
cd "$(dirname "$0")/.."
VENV=${ALAVERIFY_BENCH_VENV:-$HOME/.cache/alaverify-bench-venv}
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating the benchmark venv in $VENV (numpy, scikit-learn, h5py, matplotlib from PyPI)"
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q -r bench/requirements.txt
export PYTHON="$VENV/bin/python" ALAVERIFY_BIN="$BIN"
mkdir -p bench/out
for script in bench/run_*_bench.sh; do
  [ -x "$script" ] || continue
  echo "== $script"
  "$script" "$BIN"
done
echo "results in bench/out/"
