#!/usr/bin/env bash
# The bundled demo: metrics on the fixture score files. Runs from a clean clone.
set -euo pipefail
BIN=${1:-.build/release/alaverify}
cd "$(dirname "$0")/.."
echo "== alaverify metrics on fixtures/demo-pixels32.csv =="
"$BIN" metrics fixtures/demo-pixels32.csv --far 1e-3 --far 1e-2 --frr 0.05 --metric pauc@far=0.01
mkdir -p reports/demo
"$BIN" metrics fixtures/demo-pixels32.csv --far 1e-3 --far 1e-2 --json reports/demo/metrics.json > /dev/null
echo "wrote reports/demo/metrics.json"
