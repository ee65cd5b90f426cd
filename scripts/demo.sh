#!/usr/bin/env bash
# make demo: ALA training on the bundled fixture (a few minutes on 2 cores), then the report of the
# best model's test-split scores. Runs from a clean clone; needs nothing outside this repository.
set -euo pipefail
BIN=${1:-.build/release/alaverify}
cd "$(dirname "$0")/.."
RUN=runs/demo
echo "== alaverify train --target frr@far=1e-3 (ALA, 2 child models, bundled fixture fixtures/fonts-mini.h5)"
"$BIN" train --target frr@far=1e-3 --out "$RUN" --force
echo
echo "== alaverify report $RUN --out reports/demo"
"$BIN" report "$RUN" --out reports/demo --force --far 1e-3 --far 1e-2
echo
echo "open reports/demo/summary.md (DET curve: reports/demo/det.png)"
