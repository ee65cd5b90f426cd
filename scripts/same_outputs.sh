#!/usr/bin/env bash
# Checks that two alaverify binaries give the same outputs on the bundled fixture: a refactoring
# must change nothing a user or script can see. Runs the same commands with each binary in its own
# folder (same relative paths, so PNG metadata and messages match) and compares:
#   byte for byte: config.json, history.jsonl, model.h5, scores.h5 of every run; score, metrics
#     (table and --json), report (PNGs, metrics.json, summary.md), gate (table, JUnit, Markdown),
#     inspect; stdout of train without its timing lines; stderr and exit status of bad commands;
#   checkpoint.h5 and policy.h5: every dataset and attribute (h5diff) except the JSON documents,
#     which are compared as parsed JSON: key order is free, and the run's timings (seconds and
#     stall/read times of streamed runs) are dropped, since they differ between any two runs.
# Paths of the side's folder in stdout and stderr are replaced by SIDE; train's timing lines are dropped.
# Streamed runs' history.jsonl is compared the same way (its data.stall/read seconds are timings).
#
#   usage: scripts/same_outputs.sh BASE_BIN NEW_BIN [WORK_DIR]
# Needs h5diff and h5dump (apt: hdf5-tools) and python3. Exit 0 when everything matches.
set -uo pipefail
BASE=$(readlink -f "${1:?usage: same_outputs.sh BASE_BIN NEW_BIN [WORK_DIR]}")
NEW=$(readlink -f "${2:?usage: same_outputs.sh BASE_BIN NEW_BIN [WORK_DIR]}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${3:-$(mktemp -d /tmp/alaverify-same-XXXXXX)}
mkdir -p "$WORK"
for tool in h5diff h5dump python3; do command -v $tool > /dev/null || { echo "needs $tool"; exit 2; }; done

# Small runs: a few seconds each. Paths are relative to the side's folder.
TINY=(--width 8 --embedding 32 --steps 40 --interval 20 --checkpoint-interval 20 --batch-identities 8 --batch-samples 4
      --validation-samples 8 --test-samples 16)
run_side() {
  local bin=$1 dir=$2
  rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 2
  ln -s "$ROOT/fixtures" fixtures
  cp -r "$ROOT/protocols" "$ROOT/reports" .
  local n=0
  # One command: stdout, stderr and exit status kept under out/NN-name.
  c() {
    local name=$1; shift
    n=$((n + 1))
    local tag; tag=$(printf "%02d-%s" $n "$name")
    "$bin" "$@" > "out/$tag.stdout" 2> "out/$tag.stderr"
    echo $? > "out/$tag.status"
  }
  mkdir -p out runs scores rep
  c train-ala-cnn train --out runs/ala-cnn --children 2 --seed 3 "${TINY[@]}"
  c train-fixed-mlp train --out runs/fixed-mlp --network mlp --loss-control fixed --seed 2 "${TINY[@]}"
  c train-ala-stream train --out runs/ala-stream --stream --children 2 --seed 3 "${TINY[@]}"
  c train-ala-auc train --out runs/ala-auc --network mlp --target roc_auc --children 2 --seed 5 --reward-band 1 "${TINY[@]}"
  c train-ala-eer train --out runs/ala-eer --target eer --children 1 --seed 6 --reward-shape scaled --reward-horizon 2 "${TINY[@]}"
  c train-half train --out runs/resumed --children 2 --seed 3 --stop-after 20 "${TINY[@]}"
  c train-resume train --out runs/resumed --resume
  c train-half-stream train --out runs/resumed-stream --children 2 --seed 3 --stop-after 20 "${TINY[@]}"
  c train-resume-stream train --out runs/resumed-stream --resume --stream
  c train-warm train --out runs/warm --children 1 --seed 4 --policy runs/ala-cnn/policy.h5 --set impostor_margin=0.3 "${TINY[@]}"
  c score score --model runs/ala-cnn/model.h5 --out scores/test.h5
  c score-templates score --model runs/ala-cnn/model.h5 --split validation --templates 3 --seed 2 --out scores/templates.h5
  c score-capped score --model runs/fixed-mlp/model.h5 --split all --samples-per-identity 5 --out scores/capped.h5
  c metrics metrics scores/test.h5 scores/templates.h5 --far 1e-3 --far 1e-2 --frr 0.1 --json scores/metrics.json
  c metrics-stdout metrics runs/ala-auc/scores.h5 fixtures/demo-pixels32.csv --metric pauc@far=0.1 --json -
  c metrics-points metrics fixtures/demo-pixels8.csv --points-only --far 0.05
  c report report runs/ala-cnn runs/fixed-mlp runs/ala-auc scores/templates.h5 --out rep/runs --far 1e-3 --far 1e-2
  c report-log report fixtures/demo-pixels32.csv fixtures/demo-pixels8.csv --out rep/log --axes log --ci wilson
  c gate gate --protocol protocols/demo-pixels8.yaml fixtures/demo-pixels8.csv --baseline reports/baseline.json \
    --junit out/gate.xml --markdown out/gate.md --replicates 200
  c gate-metrics gate --protocol protocols/demo-pixels8.yaml --metrics rep/log/metrics.json --system demo-pixels8.csv
  c gate-update gate --protocol protocols/demo-pixels8.yaml fixtures/demo-pixels8.csv --baseline out/new-baseline.json \
    --update-baseline --replicates 200
  c inspect-samples inspect fixtures/fonts-mini.h5
  c inspect-scores inspect scores/test.h5
  # Failures: the one stderr line and the exit status.
  cut -d, -f1,2 fixtures/demo-pixels8.csv > out/no-identities.csv
  c bad-target train --out runs/bad1 --target frr@far=2
  c bad-unestimable train --out runs/bad2 --target frr@far=1e-7 "${TINY[@]}"
  c bad-network train --out runs/bad3 --network resnet9 "${TINY[@]}"
  c bad-control train --out runs/bad4 --loss-control sometimes "${TINY[@]}"
  c bad-steps train --out runs/bad5 --steps 0
  c bad-interval train --out runs/bad6 --steps 10 --interval 3 --checkpoint-interval 4
  c bad-width train --out runs/bad7 --width 999
  c bad-set train --out runs/bad8 --set nonsense=1 "${TINY[@]}"
  c bad-shape train --out runs/bad9 --reward-shape square "${TINY[@]}"
  c bad-split-flag train --out runs/bad10 --split 0.5,0.5 "${TINY[@]}"
  c bad-resume-flag train --out runs/ala-cnn --resume --steps 5
  c bad-resume-none train --out runs/none --resume
  c bad-nonempty train --out runs/ala-cnn "${TINY[@]}"
  c bad-data train --out runs/bad11 --data fixtures/demo-pixels8.csv
  c bad-data-missing train --out runs/bad12 --data fixtures/nothing.h5
  c bad-policy-fixed train --out runs/bad13 --loss-control fixed --policy runs/ala-cnn/policy.h5 "${TINY[@]}"
  c bad-policy-file train --out runs/bad14 --policy runs/ala-cnn/model.h5 "${TINY[@]}"
  c bad-protocol train --out runs/bad15 --protocol protocols/demo-pixels8.yaml
  c bad-model score --model runs/ala-cnn/checkpoint.h5 --out scores/x.h5
  c bad-model-missing score --model runs/nothing/model.h5 --out scores/x.h5
  c bad-split score --model runs/ala-cnn/model.h5 --split nope --out scores/x.h5
  c bad-score-out score --model runs/ala-cnn/model.h5 --out missing/x.h5
  c bad-metrics-file metrics fixtures/make_fixtures.py
  c bad-metrics-ci metrics out/no-identities.csv --ci bootstrap
  c bad-report-run report runs --out rep/bad
  c bad-report-ci report out/no-identities.csv --out rep/bad2 --ci bootstrap
  c bad-report-out report fixtures/demo-pixels8.csv --out fixtures/demo-pixels8.csv
  printf "name: x\nscores: nothing.csv\nreport: [eer]\ngates:\n  - {metric: eer, max: 2}\n" > out/bad.yaml
  c bad-gate-protocol gate --protocol out/bad.yaml
  c bad-gate-junit gate --protocol protocols/demo-pixels8.yaml fixtures/demo-pixels8.csv --junit missing/j.xml
  c bad-inspect inspect runs/ala-cnn/model.h5
  c bad-flag metrics --nonsense
  cd - > /dev/null || exit 2
}

echo "work folder: $WORK"
run_side "$BASE" "$WORK/base"
run_side "$NEW" "$WORK/new"

python3 - "$WORK/base" "$WORK/new" <<'PY'
import json, os, re, subprocess, sys

base, new = sys.argv[1], sys.argv[2]
failures, checked = [], 0
TIMING = {"trainingSeconds", "validationSeconds", "controllerSeconds", "stallSeconds", "readSeconds",
          "stall_seconds", "read_seconds"}

def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in TIMING}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v

def dump_json(path, dataset):
    raw = path + ".dump"
    r = subprocess.run(["h5dump", "-d", dataset, "-b", "LE", "-o", raw, path], capture_output=True)
    if r.returncode != 0 or not os.path.exists(raw):
        return None
    with open(raw, "rb") as f:
        text = f.read().decode("utf-8")
    os.remove(raw)
    return json.loads(text)

def same(rel, ok, note=""):
    global checked
    checked += 1
    if not ok:
        failures.append(rel + (": " + note if note else ""))

def text_lines(path, side, drop=()):
    with open(path, errors="replace") as f:
        return [l.replace(side, "SIDE") for l in f if not any(re.search(p, l) for p in drop)]

TRAIN_TIMING = (r"^time: ", r"^read \d+ images", r"samples/s", r"^data: streamed")
for root, _, files in os.walk(base):
    for name in sorted(files):
        a = os.path.join(root, name)
        rel = os.path.relpath(a, base)
        b = os.path.join(new, rel)
        if os.path.islink(os.path.dirname(a)) or rel.startswith(("fixtures", "protocols", "reports")):
            continue
        if not os.path.exists(b):
            same(rel, False, "missing in new")
            continue
        streamed = "stream" in rel
        if name in ("checkpoint.h5", "policy.h5"):
            r = subprocess.run(["h5diff", "-c", "--exclude-path", "/progress_json", "--exclude-path", "/controller_json",
                                a, b], capture_output=True, text=True)
            same(rel, r.returncode == 0, "h5diff: " + r.stdout[-400:])
            for doc in ("/progress_json", "/controller_json", "/config_json"):
                ja, jb = dump_json(a, doc), dump_json(b, doc)
                if ja is not None or jb is not None:
                    same(rel + doc, strip(ja) == strip(jb), "JSON differs")
        elif name == "history.jsonl" and streamed:
            la = [strip(json.loads(l)) for l in open(a)]
            lb = [strip(json.loads(l)) for l in open(b)]
            same(rel, la == lb, "records differ (timings dropped)")
        elif name.endswith((".stdout", ".stderr")):
            same(rel, text_lines(a, base, TRAIN_TIMING) == text_lines(b, new, TRAIN_TIMING), "output differs")
        else:
            same(rel, open(a, "rb").read() == open(b, "rb").read(), "bytes differ")
for root, _, files in os.walk(new):
    for name in files:
        rel = os.path.relpath(os.path.join(root, name), new)
        if not rel.startswith(("fixtures", "protocols", "reports")) and not os.path.exists(os.path.join(base, rel)):
            same(rel, False, "only in new")
print(f"compared {checked} outputs: {len(failures)} differ")
for f in failures:
    print("  DIFFERS", f)
sys.exit(1 if failures else 0)
PY
