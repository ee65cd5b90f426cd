#!/usr/bin/env bash
# Agreement with bob.measure 6.1.1 (dev/eval thresholds, farfrr, Cllr, minCllr, calibration):
# bob.measure pins numpy 1.26, so it gets its own venv outside the repository.
# Results: bench/out/bob_agreement.json; BENCHMARKS.md quotes them.
set -euo pipefail
BIN=$(realpath "${1:-.build/release/alaverify}")
cd "$(dirname "$0")/.."
VENV=${ALAVERIFY_BOB_VENV:-$HOME/.cache/alaverify-bob-venv}
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating the bob.measure venv in $VENV (bob.measure 6.1.1, numpy 1.26, scikit-learn from PyPI)"
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q bob.measure==6.1.1 numpy==1.26.4 scikit-learn
mkdir -p bench/out
"$VENV/bin/python" bench/bob_agreement.py --bin "$BIN" --cases "${CASES:-100}" --seed "${SEED:-1}" --out bench/out/bob_agreement.json
