#!/usr/bin/env bash
# Metric engine benchmarks (issue 2): whole `alaverify metrics` vs h5py + scikit-learn, operating
# points vs numpy partition, radix sort vs np.sort, peak memory. Called by bench/run.sh (make bench)
# with the release binary as $1; PYTHON names an interpreter with bench/requirements.txt installed.
# Results: bench/out/metrics_bench.json and .md, bench/out/agreement.json.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-${ALAVERIFY_BIN:-.build/release/alaverify}}")
PYTHON=${PYTHON:-python3}
SWIFT=${SWIFT:-swift}
mkdir -p bench/out
echo "building bench/MetricsBench (release)"
"$SWIFT" build -c release --package-path bench/MetricsBench >/dev/null
BENCH_BIN=bench/MetricsBench/.build/release/MetricsBench
echo "agreement with the reference implementation and scikit-learn"
"$PYTHON" bench/agreement.py --bin "$BIN" --out bench/out/agreement.json
echo "timings"
"$PYTHON" bench/metrics_bench.py --bin "$BIN" --bench-bin "$BENCH_BIN" --python "$PYTHON" --out bench/out
