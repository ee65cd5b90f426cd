#!/usr/bin/env bash
# CI regression gate on the bundled fixture: gates fixtures/demo-pixels8.csv under
# protocols/demo-pixels8.yaml against the committed reports/baseline.json, then the fixture's
# evaluation identities at the threshold chosen on its development identities
# (protocols/demo-pixels8-deploy.yaml: the FAR and FRR the shipped threshold gives).
# Called from .ci/run after `make test`; uses the release binary when built, else the debug one.
# Writes reports/ci/gate.xml (JUnit) and reports/ci/gate.md (Markdown summary) as artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-}
if [ -z "$BIN" ]; then
  if [ -x .build/release/alaverify ]; then BIN=.build/release/alaverify
  elif [ -x .build/debug/alaverify ]; then BIN=.build/debug/alaverify
  else swift build --product alaverify; BIN=.build/debug/alaverify; fi
fi
mkdir -p reports/ci
"$BIN" gate --protocol protocols/demo-pixels8.yaml fixtures/demo-pixels8.csv \
  --baseline reports/baseline.json --junit reports/ci/gate.xml --markdown reports/ci/gate.md
"$BIN" gate --protocol protocols/demo-pixels8-deploy.yaml \
  --junit reports/ci/gate-deploy.xml --markdown reports/ci/gate-deploy.md
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat reports/ci/gate.md reports/ci/gate-deploy.md >> "$GITHUB_STEP_SUMMARY"; fi
