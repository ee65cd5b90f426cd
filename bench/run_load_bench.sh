#!/usr/bin/env bash
# Load benchmark (issue 3): all 87,792 images of fonts-glyphs32-dev.h5 with the SampleData reader
# (bench/LoadBench, release) vs h5py, median of 3 alternating rounds, in the same run.
# ALAVERIFY_FONTS_H5 names the file (default ../shared/data/fonts-glyphs32-dev.h5 relative to the
# repository); PYTHON an interpreter with h5py and numpy. Called by bench/run.sh (make bench);
# the alaverify binary ($1) is not needed. Results: bench/out/load_bench.json and .md.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
SWIFT=${SWIFT:-swift}
DATA=${ALAVERIFY_FONTS_H5:-../shared/data/fonts-glyphs32-dev.h5}
if [ ! -f "$DATA" ]; then
  echo "run_load_bench.sh: $DATA not found; set ALAVERIFY_FONTS_H5 to fonts-glyphs32-dev.h5" >&2
  exit 66
fi
mkdir -p bench/out
echo "building bench/LoadBench (release)"
# swift build reports compile errors on stdout: keep them, show them on failure.
if ! "$SWIFT" build -c release --package-path bench/LoadBench >bench/out/load_bench_build.log 2>&1; then
  cat bench/out/load_bench_build.log >&2
  exit 1
fi
"$PYTHON" bench/load_bench.py --data "$DATA" --bench-bin bench/LoadBench/.build/release/LoadBench \
  --rounds "${ROUNDS:-3}" --out bench/out
