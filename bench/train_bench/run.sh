#!/bin/sh
# Training throughput: Swift (Training target on OpenBLAS) vs JAX (CPU, jit), batch 256,
# MLP and CNN, interleaved in one run so both see the same machine load.
# Usage: bench/train_bench/run.sh [rounds]   (from the repository root)
# env:   VENV (default ~/.cache/alaverify-bench-venv, with numpy, h5py, jax), ALAVERIFY_FONTS_H5 (the data)
#        MLP_STEPS / CNN_STEPS  timed steps per repeat (default 30 / 3; each run is the median of 3 repeats)
set -eu
ROUNDS=${1:-3}
VENV=${VENV:-${ALAVERIFY_BENCH_VENV:-$HOME/.cache/alaverify-bench-venv}}
DATA=${ALAVERIFY_FONTS_H5:-../shared/data/fonts-glyphs32-dev.h5}
[ -x "$VENV/bin/python" ] || { echo "train_bench: no Python venv in $VENV (make bench creates one; or set VENV)" >&2; exit 1; }
OUT=bench/out
mkdir -p "$OUT"
if [ ! -f "$OUT/images.u8" ]; then
  [ -f "$DATA" ] || { echo "train_bench: $DATA not found; set ALAVERIFY_FONTS_H5 to fonts-glyphs32-dev.h5" >&2; exit 1; }
  "$VENV/bin/python" bench/train_bench/export_data.py "$DATA" "$OUT"
fi
cc -O2 -shared -fPIC -o "$OUT/alloc_count.so" bench/train_bench/alloc_count.c -ldl
(cd bench/train_bench && swift build -c release 2>&1 | tail -1)
BIN=bench/train_bench/.build/release/train-bench
RESULTS="$OUT/train_bench.jsonl"
: > "$RESULTS"
for r in $(seq "$ROUNDS"); do
  for model in mlp cnn; do
    if [ "$model" = mlp ]; then S=${MLP_STEPS:-30}; else S=${CNN_STEPS:-3}; fi
    for t in 1 2; do
      LD_PRELOAD="$PWD/$OUT/alloc_count.so" "$BIN" --model $model --threads $t --steps $S --repeats 3 --warmup 2 | tail -1 >> "$RESULTS"
    done
    "$VENV/bin/python" bench/train_bench/jax_bench.py --model $model --steps $S --repeats 3 --warmup 3 | tail -1 >> "$RESULTS"
  done
done
"$VENV/bin/python" - "$RESULTS" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(model, impl, threads=None):
    v = [r["median_samples_per_s"] for r in rows if r["model"] == model and r["impl"] == impl
         and (threads is None or r.get("threads") == threads)]
    return statistics.median(v) if v else float("nan")
print("model  swift(1 thr)  swift(2 thr)  jax      ratio best-swift/jax  sgemm share(2 thr)  allocations/step")
for m in ("mlp", "cnn"):
    s1, s2, j = med(m, "swift", 1), med(m, "swift", 2), med(m, "jax")
    share = statistics.median([r["sgemm_share"] for r in rows if r["model"] == m and r["impl"] == "swift" and r["threads"] == 2])
    share1 = statistics.median([r["sgemm_share"] for r in rows if r["model"] == m and r["impl"] == "swift" and r["threads"] == 1])
    allocs = sorted({(r["threads"], r["max_allocations_per_step"]) for r in rows if r["model"] == m and r["impl"] == "swift"})
    print(f"{m:5} {s1:12.0f} {s2:13.0f} {j:8.0f} {max(s1, s2) / j:20.2f}   {share:.2f} (1 thr {share1:.2f})   {allocs}")
PY
