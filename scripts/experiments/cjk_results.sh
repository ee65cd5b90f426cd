#!/usr/bin/env bash
# RESULTS.md's runs on cjk-glyphs32-dev.h5: every arm at the defaults and equal compute (1,185 steps
# of 256 samples; a population's children share the batch), seeds 1-3, then the comparison.
# The default population continues from its children's mean (each child its own share of a batch);
# the first rounds' runs continued from the best child (the same rows for both): phases alabest and
# randombest run those (`--continue-from best`).
# A finished run (its scores.h5 exists) is skipped, so the script can be re-run after an interruption.
#
# usage: scripts/experiments/cjk_results.sh DATA.h5 OUT_DIR [PHASE...]
#   phases: fixed ala alabest random randombest search fixed2 fixedmean grid gridpick targets transfer halfbatch
#           found tail meantail torch compare (default: all)
# needs: the release binary (make release); for torch and compare a venv with torch/h5py/numpy
#   (TORCH_VENV, default /work/torch-venv) and h5py/numpy (VENV, default ~/.cache/alaverify-bench-venv)
#   CHAIN: chained policy-learning runs of the transfer phase (default 3)
set -euo pipefail
DATA=${1:?samples file}
OUT=${2:?output folder}
shift 2
PHASES=${*:-fixed ala alabest random randombest search fixed2 fixedmean grid gridpick targets transfer halfbatch found tail meantail torch compare}
BIN=${ALAVERIFY_BIN:-$(pwd)/.build/release/alaverify}
VENV=${VENV:-$HOME/.cache/alaverify-bench-venv}
TORCH_VENV=${TORCH_VENV:-/work/torch-venv}
# The tail term of the tail and meantail phases (one setting, so the two arms test the same term).
TAIL=(--set tail_weight=3 --tail-fraction 1e-3)
mkdir -p "$OUT"
# Absolute paths: the torch phase runs from bench/train_bench (split.json names the data relative to here).
OUT=$(realpath "$OUT")
DATA=$(realpath "$DATA")

run() {  # run NAME ARGS...: one training run into OUT/NAME unless it finished
  local name=$1
  shift
  [ -f "$OUT/$name/scores.h5" ] && { echo "skip $name (done)"; return; }
  echo "== $name: alaverify train --data DATA $*"
  /usr/bin/time -v "$BIN" train --data "$DATA" --out "$OUT/$name" --force "$@" > "$OUT/$name.log" 2> "$OUT/$name.time"
}

for phase in $PHASES; do
  case $phase in
    fixed)  for s in 1 2 3; do run fixed-s$s --loss-control fixed --seed $s; done ;;
    ala)    for s in 1 2 3; do run mean-s$s --loss-control ala --seed $s; done ;;
    alabest) for s in 1 2 3; do run ala-s$s --loss-control ala --continue-from best --seed $s; done ;;
    random) for s in 1 2 3; do run randommean-s$s --loss-control random --seed $s; done ;;
    randombest) for s in 1 2 3; do run random-s$s --loss-control random --continue-from best --seed $s; done ;;
    # What averaging alone does: the mean-merging population at the fixed loss (local SGD, 59-step rounds).
    fixedmean) for s in 1 2 3; do run fixedmean-s$s --loss-control fixed --children 2 --continue-from mean --seed $s; done ;;
    search) for s in 1 2 3; do run search-s$s --loss-control search --seed $s; done ;;
    # The other way to spend the fixed loss's compute: two seeds sharing the batch, the better on validation.
    fixed2) for s in 1 2 3; do run fixed2-s$s --loss-control fixed --children 2 --batch-size 128 --seed $s; done ;;
    # A fixed grid of scale x margin, seed 1; the best on validation is the grid's pick.
    grid)
      for scale in 20 40; do for m in 0.25 0.45; do
        run grid-s$scale-m$m --loss-control fixed --seed 1 --set scale=$scale --set cos_margin=$m
      done; done ;;
    # The grid's pick (by validation alone, the default being the grid's centre) at seeds 2 and 3;
    # seed 1 is the grid run itself. Nothing to run when the pick is the default.
    gridpick)
      done_grid=(); for g in "$OUT"/grid-s*-m*; do [ -f "$g/scores.h5" ] && done_grid+=("$g"); done
      [ ${#done_grid[@]} -gt 0 ] || { echo "gridpick: no finished grid run in $OUT (run the grid phase first)" >&2; exit 66; }
      pick=$("$VENV/bin/python" scripts/experiments/grid_pick.py "$OUT/fixed-s1" "${done_grid[@]}" | sed -n 's/^pick //p')
      pick=$(basename "$pick")
      echo "grid pick (validation): $pick"
      if [[ $pick =~ ^grid-s([0-9.]+)-m([0-9.]+)$ ]]; then
        ln -sfn "$OUT/$pick" "$OUT/gridpick-s1"
        for s in 2 3; do run gridpick-s$s --loss-control fixed --seed $s --set scale=${BASH_REMATCH[1]} --set cos_margin=${BASH_REMATCH[2]}; done
      fi ;;
    # Cross-target: ALA trained for 1e-2 and 1e-3 (1e-4 is the ala arm), seed 1. The defaults size
    # validation and test by the target (30 identities each for 1e-2), so the 1e-4 runs' split, step
    # count and interval are pinned: every model is scored on the same 250 test identities at equal
    # compute, and only the target (and the tail share it sets) differs.
    targets) for t in 1e-2 1e-3; do run ala-t$t-s1 --loss-control ala --target frr@far=$t --split 0.75,0.125,0.125 \
               --validation-samples 8 --steps 1185 --interval 59 --seed 1; done ;;
    # Transfer: a policy learned over chained population runs on a mini set drawn from the split's
    # train/validation identities only (cjk-mini.h5 itself holds 52 of the test identities), then
    # steering one run on the full set (transfer) and warm-starting a population (transfer2).
    transfer)
      MINI=${MINI:-$OUT/cjk-mini-trainval.h5}
      if [ ! -f "$MINI" ]; then
        [ -f "$OUT/fixed-s1/split.json" ] || { echo "transfer: $OUT/fixed-s1/split.json not found (run the fixed phase first: the mini set is drawn from its split)" >&2; exit 66; }
        "$VENV/bin/python" scripts/experiments/mini_from_split.py "$DATA" "$OUT/fixed-s1/split.json" "$MINI"
      fi
      prev=""
      for e in $(seq 0 $(( ${CHAIN:-3} - 1 ))); do
        name=pol-e$e
        if [ ! -f "$OUT/$name/policy.h5" ]; then
          "$BIN" train --data "$MINI" --target frr@far=1e-3 --loss-control ala --children 4 --continue-from best --steps 300 --interval 15 \
            --seed $(( e + 1 )) --out "$OUT/$name" --force ${prev:+--policy "$prev"} > "$OUT/$name.log" 2>&1
        fi
        prev="$OUT/$name/policy.h5"
      done
      for s in 1 2 3; do run xfer-s$s --loss-control ala --children 1 --policy "$prev" --seed $s; done
      run transfer2-s1 --loss-control ala --policy "$prev" --seed 1 ;;
    # The path a population's kept model walks without selection: the fixed loss on half batches.
    halfbatch) run fixed-b128-s1 --loss-control fixed --batch-size 128 --seed 1 ;;
    # The fixed loss at the parameters the ALA populations ended at (seeds 1 and 2 of ala: scale 18,
    # cos_margin 0.5, tail_weight 2 with the tail fraction ALA uses at 1e-4), on full batches.
    found) for s in 1 2 3; do run found-s$s --loss-control fixed --seed $s --set scale=18 --set cos_margin=0.5 \
             --set tail_weight=2 --tail-fraction 1e-3; done ;;
    # The impostor-tail term alone: the fixed default plus tail_weight 3 (the level the populations'
    # tails reached mid-run) at the tail fraction ALA uses at 1e-4, on one path (tail) and on the
    # mean-merging population (meantail: does the tail explain what the moving populations win back?).
    tail) for s in 1 2 3; do run fixedtail-s$s --loss-control fixed --seed $s "${TAIL[@]}"; done ;;
    meantail) for s in 1 2 3; do run fixedmeantail-s$s --loss-control fixed --children 2 --continue-from mean "${TAIL[@]}" --seed $s; done ;;
    torch)
      for s in 1 2 3; do
        [ -f "$OUT/torch-s$s/scores.h5" ] && continue
        (cd bench/train_bench && /usr/bin/time -v "$TORCH_VENV/bin/python" torch_recipe.py --split "$OUT/fixed-s$s/split.json" \
          --data "$DATA" --steps 1233 --seed $s --out "$OUT/torch-s$s" > "$OUT/torch-s$s.log" 2> "$OUT/torch-s$s.time")
      done ;;
    compare)
      arms() { local a=""; for s in 1 2 3; do [ -f "$OUT/$1-s$s/scores.h5" ] && a="$a,$OUT/$1-s$s"; done; echo "${a#,}"; }
      "$VENV/bin/python" scripts/experiments/compare_runs.py fixed="$(arms fixed)" ala="$(arms mean)" alabest="$(arms ala)" \
        random="$(arms randommean)" randombest="$(arms random)" search="$(arms search)" fixed2="$(arms fixed2)" \
        fixedmean="$(arms fixedmean)" xfer="$(arms xfer)" found="$(arms found)" tail="$(arms fixedtail)" \
        meantail="$(arms fixedmeantail)" gridpick="$(arms gridpick)" ala1e-2="$(arms ala-t1e-2)" \
        ala1e-3="$(arms ala-t1e-3)" torch="$(arms torch)" ;;
    *) echo "unknown phase $phase" >&2; exit 64 ;;
  esac
done
