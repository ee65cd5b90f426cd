#!/usr/bin/env bash
# Reproduces every number of RESULTS.md.
#   usage: scripts/experiments/run_results.sh DATA.h5 [OUT_DIR] [PHASE ...]
#   DATA.h5  fonts-glyphs32-dev.h5 (sha256 in its .json); OUT_DIR default runs/results
#   PHASE    any of: main1e-3 main1e-2 grid noise evaluate final report analyse (default: all, in this order)
# Needs the release binary (swift build -c release --product alaverify) and python3 with h5py and
# numpy. Runs are skipped when OUT_DIR/NAME/DONE exists. Writes results/ (committed) and OUT_DIR
# (run directories, score files; not committed).
# Environment: STEPS (default 800), INTERVAL (default 50).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:?usage: run_results.sh DATA.h5 [OUT_DIR] [PHASE ...]}
OUT=${2:-runs/results}
shift $(( $# >= 2 ? 2 : 1 ))
PHASES=${*:-main1e-3 main1e-2 grid noise evaluate final report analyse}
B=.build/release/alaverify
STEPS=${STEPS:-800}
INTERVAL=${INTERVAL:-50}
SPLIT=0.5,0.25,0.25
GLYPHS=$OUT/test-glyphs62.h5
mkdir -p "$OUT"
[ -x "$B" ] || swift build -c release --product alaverify
COMMON=(--data "$DATA" --split "$SPLIT" --network cnn --width 16 --embedding 64
        --steps "$STEPS" --interval "$INTERVAL" --validation-samples 16)

# The step a checkpoint reached (0 while none is readable), as `alaverify inspect` reports it: the
# scripts read run files through the CLI, which alone knows their layout.
checkpoint_step() {
  "$B" inspect "$1" 2> /dev/null | awk '$1 == "step:" { print $2; found = 1 } END { if (!found) print 0 }'
}

# One training run. The run's own end-of-training test scoring (all 251M pairs of the 22,444 test
# glyphs in memory, 6+ GB RSS, >5 min) is skipped: once the last step is logged (model.h5, the
# best-on-validation model, is written before that line) and the checkpoint is saved, the process
# is stopped; the test split is scored below with `alaverify score`.
train() {
  local name=$1; shift
  local dir=$OUT/$name
  [ -f "$dir/DONE" ] && { echo "skip $name (done)"; return 0; }
  echo "$(date +%T) train $name: $*"
  "$B" train "${COMMON[@]}" "$@" --out "$dir" --force > "$OUT/$name.log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if grep -q "^step $STEPS/$STEPS " "$OUT/$name.log"; then
      # wait for the last checkpoint (progress step = STEPS), then stop before the test scoring
      for _ in $(seq 1 120); do
        [ "$(checkpoint_step "$dir/checkpoint.h5")" = "$STEPS" ] && break
        sleep 1
      done
      sleep 2; kill "$pid" 2>/dev/null || true; break
    fi
    sleep 2
  done
  wait "$pid" 2>/dev/null || true
  if grep -q "^step $STEPS/$STEPS " "$OUT/$name.log"; then touch "$dir/DONE"; else echo "FAILED $name"; tail -3 "$OUT/$name.log"; fi
}

# Test metrics of one run: single glyphs (62 random glyphs of each of the 93 test identities),
# 4-glyph templates of all glyphs of the test split (`score --split test --templates 4`), and
# 4-glyph templates of the same 62-glyph subset (identities weighted as in the single-glyph view).
evaluate() {
  local dir=$1
  [ -f "$dir/SKIPPED" ] && return 0
  [ -f "$dir/NOEVAL" ] && return 0  # grid runs not picked on validation: test not needed
  if [ ! -f "$dir/metrics-glyphs.json" ]; then
    "$B" score --model "$dir/model.h5" --data "$GLYPHS" --split all --out "$dir/test-glyphs.h5" > /dev/null
    "$B" metrics "$dir/test-glyphs.h5" --far 1e-2 --far 1e-3 --far 1e-4 --json "$dir/metrics-glyphs.json" > /dev/null
  fi
  if [ ! -f "$dir/metrics-t4.json" ]; then
    "$B" score --model "$dir/model.h5" --split test --templates 4 --out "$dir/test-t4.h5" > /dev/null
    "$B" metrics "$dir/test-t4.h5" --far 1e-2 --far 1e-3 --far 1e-4 --json "$dir/metrics-t4.json" > /dev/null
  fi
  if [ ! -f "$dir/metrics-t4s.json" ]; then
    "$B" score --model "$dir/model.h5" --data "$GLYPHS" --split all --templates 4 --out "$dir/test-t4s.h5" > /dev/null
    "$B" metrics "$dir/test-t4s.h5" --far 1e-2 --far 1e-3 --far 1e-4 --json "$dir/metrics-t4s.json" > /dev/null
  fi
  echo "$(date +%T) evaluated $dir"
}

for phase in $PHASES; do
  case $phase in
    main1e-3|main1e-2)
      t=${phase#main}
      for seed in 1 2 3; do
        train "ala-$t-s$seed"   --target "frr@far=$t" --loss-control ala   --children 2 --seed "$seed"
        train "fixed-$t-s$seed" --target "frr@far=$t" --loss-control fixed --children 2 --seed "$seed"
      done ;;
    grid)
      # Fixed-loss grid (one child each, seed 1; the default impostor_margin 0.5 / scale 2 is child 0
      # of fixed-1e-3-s1), chosen on validation, target frr@far=1e-3. Equal total compute: the grid's
      # 5 child runs against the ALA run picked on validation among seeds 1-2 (4 child runs) or 1-3 (6).
      for m in 0.3 0.7; do for s in 2 8; do
        train "grid-1e-3-m$m-a$s" --target frr@far=1e-3 --loss-control fixed --children 1 --seed 1 \
          --set impostor_margin=$m --set scale=$s
      done; done
      # Only the grid point best on validation is scored on the test split.
      best=$(python3 -c "
import json, sys
runs = [r.rstrip('/') for r in sys.argv[1:]]
val = lambda r: min(json.loads(l)['validation']['value'] for l in open(r + '/history.jsonl'))
print(min(runs, key=val))" "$OUT"/grid-1e-3-m*/)
      for d in "$OUT"/grid-1e-3-m*/; do d=${d%/}; [ "$d" = "$best" ] && touch "$d/PICKED" || touch "$d/NOEVAL"; done ;;
    noise)
      # Reward-noise probe: ala-1e-3-s1 again with a checkpoint every controller step (training is
      # bit-identical to ala-1e-3-s1; compare the histories), every checkpoint copied as it appears,
      # then each child's checkpoints scored on 64 validation glyphs of each validation identity
      # (validation split only) and the reward recomputed on 4 disjoint 16-glyph subsets and
      # under an identity bootstrap (scripts/experiments/reward_noise.py).
      name=noise-ala-1e-3-s1; dir=$OUT/$name
      if [ ! -f "$dir/DONE" ]; then
        rm -rf "$OUT/$name-ckpt"; mkdir -p "$OUT/$name-ckpt"
        ( last=""; while [ ! -f "$OUT/$name.finished" ]; do
            if [ -f "$dir/checkpoint.h5" ]; then
              m=$(stat -c %Y.%s "$dir/checkpoint.h5" 2>/dev/null; md5sum < "$dir/checkpoint.h5" | cut -c1-8)
              if [ "$m" != "$last" ]; then cp "$dir/checkpoint.h5" "$OUT/$name-ckpt/ck-$(date +%s%N).h5"; last=$m; fi
            fi; sleep 0.5; done ) &
        watcher=$!
        train "$name" --target frr@far=1e-3 --loss-control ala --children 2 --seed 1 --checkpoint-interval "$INTERVAL"
        touch "$OUT/$name.finished"; wait "$watcher" || true
        touch "$dir/NOEVAL"  # same model as ala-1e-3-s1; no test evaluation
      fi
      [ -f "$OUT/val-glyphs64.h5" ] || python3 scripts/experiments/test_glyph_subset.py "$DATA" "$OUT/val-glyphs64.h5" \
          --split "$SPLIT" --part validation --per-identity 64 --seed 1
      mkdir -p "$OUT/$name-scores"
      for ck in "$OUT/$name-ckpt"/ck-*.h5; do
        step=$(checkpoint_step "$ck")
        # child 0 at every checkpoint, child 1 at steps 50 and 100 only (compute budget)
        cs=0; [ "$step" -le 100 ] && cs="0 1"
        for c in $cs; do
          s="$OUT/$name-scores/step$(printf %04d "$step")-c$c.h5"
          [ -f "$s" ] && continue
          "$B" score --model "$ck" --child "$c" --data "$OUT/val-glyphs64.h5" --split all --out "$s" > /dev/null
        done
      done
      python3 scripts/experiments/reward_noise.py "$OUT" > "$OUT/reward-noise.txt"; cat "$OUT/reward-noise.txt" ;;
    evaluate)
      [ -f "$GLYPHS" ] || python3 scripts/experiments/test_glyph_subset.py "$DATA" "$GLYPHS" --split "$SPLIT"
      for dir in "$OUT"/*/; do [ -f "$dir/DONE" ] && evaluate "${dir%/}"; done ;;
    final)
      # Control for checkpoint selection: both children of every main run at the last step (800),
      # single glyphs of the test split, no intervals (scripts/experiments/final_step.py tabulates).
      for dir in "$OUT"/ala-1e-*-s? "$OUT"/fixed-1e-*-s?; do
        [ -f "$dir/DONE" ] || continue
        for c in 0 1; do
          [ -f "$dir/final-c$c.json" ] && continue
          "$B" score --model "$dir/checkpoint.h5" --child "$c" --data "$GLYPHS" --split all --out "$dir/final-c$c.h5" > /dev/null
          "$B" metrics "$dir/final-c$c.h5" --far 1e-2 --far 1e-3 --ci none --json "$dir/final-c$c.json" > /dev/null
          rm -f "$dir/final-c$c.h5"
        done
      done
      python3 scripts/experiments/final_step.py "$OUT" > results/final-step.md ;;
    report)
      # DET overlay of one ALA and one fixed run of the same seed (seed 1), single glyphs and
      # 4-glyph templates of the same glyphs; the PNGs are copied to results/.
      mkdir -p results
      for t in 1e-3 1e-2; do
        [ -f "$OUT/fixed-$t-s1/metrics-t4s.json" ] || continue
        "$B" report "$OUT/ala-$t-s1/test-glyphs.h5" "$OUT/fixed-$t-s1/test-glyphs.h5" \
          "$OUT/ala-$t-s1/test-t4s.h5" "$OUT/fixed-$t-s1/test-t4s.h5" \
          --name "ALA $t s1, glyph" --name "fixed $t s1, glyph" --name "ALA $t s1, 4-glyph template" \
          --name "fixed $t s1, 4-glyph template" --far 1e-2 --far 1e-3 --far 1e-4 --ci none \
          --out "$OUT/report-$t" --force > /dev/null
        cp "$OUT/report-$t/det.png" "results/det-frr-at-far-$t-seed1.png"
        cp "$OUT/report-$t/summary.md" "results/det-frr-at-far-$t-seed1.md"
      done ;;
    analyse)
      mkdir -p results
      python3 scripts/experiments/analyse.py "$OUT" > /dev/null          # results/tables.md, summary.json
      python3 scripts/experiments/paired_bootstrap.py "$OUT" 1000 > results/paired-bootstrap.md
      python3 scripts/experiments/action_overlap.py "$OUT" > results/action-overlap.md
      cp "$OUT/reward-noise.txt" "$OUT/reward-noise.json" results/ ;;
    *) echo "unknown phase $phase"; exit 64 ;;
  esac
done
