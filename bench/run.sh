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
status=0
for script in bench/run_metrics_bench.sh bench/report_bench.sh bench/run_bob_agreement.sh bench/run_load_bench.sh bench/run_stream_bench.sh; do
  echo "== $script"
  case "$script" in
    bench/run_load_bench.sh|bench/run_stream_bench.sh)
      if [ ! -f "${ALAVERIFY_FONTS_H5:-../shared/data/fonts-glyphs32-dev.h5}" ]; then
        echo "skipped: set ALAVERIFY_FONTS_H5 to fonts-glyphs32-dev.h5 to run this benchmark"
        continue
      fi ;;
  esac
  "$script" "$BIN" || { echo "$script failed" >&2; status=1; }
done
# Sharded scoring at 1.1e9 comparisons (about 12 minutes, a 3.5 GB scores file for a while):
# opt in with BENCH_SHARDS=1; needs the shared font data.
if [ "${BENCH_SHARDS:-0}" = 1 ]; then
  echo "== bench/run_shard_bench.sh"
  bench/run_shard_bench.sh "$BIN" || { echo "bench/run_shard_bench.sh failed" >&2; status=1; }
else
  echo "== bench/run_shard_bench.sh skipped (BENCH_SHARDS=1 runs it; ALAVERIFY_FONTS_H5 names the font data)"
fi
# Training throughput against JAX installs jax/jaxlib (large): opt in with BENCH_TRAIN=1.
if [ "${BENCH_TRAIN:-0}" = 1 ]; then
  "$VENV/bin/pip" install -q jax jaxlib
  echo "== bench/train_bench/run.sh"
  VENV="$VENV" bench/train_bench/run.sh || status=1
else
  echo "== bench/train_bench/run.sh skipped (BENCH_TRAIN=1 runs it; it installs jax)"
fi
# The ResNet + CosFace against PyTorch needs torch (about 5.5 GB, its CUDA build): opt in with
# BENCH_RESNET=1; TORCH_VENV names a venv with torch, numpy and h5py (created when missing).
if [ "${BENCH_RESNET:-0}" = 1 ]; then
  TORCH_VENV=${TORCH_VENV:-$HOME/.cache/alaverify-torch-venv}
  if [ ! -x "$TORCH_VENV/bin/python" ]; then python3 -m venv "$TORCH_VENV"; fi
  "$TORCH_VENV/bin/pip" install -q torch numpy h5py
  echo "== bench/train_bench/run_resnet.sh"
  VENV="$VENV" TORCH_VENV="$TORCH_VENV" bench/train_bench/run_resnet.sh || status=1
else
  echo "== bench/train_bench/run_resnet.sh skipped (BENCH_RESNET=1 runs it; it installs torch)"
fi
echo "results in bench/out/"
exit $status
