#!/bin/sh
# ResNet + CosFace training throughput: alaverify (Training target) vs PyTorch on the CPU, the
# same network, loss and AdamW, batch 256 (32 identities x 8), 32x32 inputs, 1 and 2 threads,
# interleaved rounds in one run, with sgemm's 1024^3 rate measured in the same rounds.
# Usage: bench/train_bench/run_resnet.sh [rounds]   (from the repository root)
# env:   TORCH_VENV (a venv with torch, numpy, h5py; default /work/torch-venv), VENV (numpy, h5py)
#        ALAVERIFY_CJK_MINI (cjk-mini.h5; default ../shared/data/cjk-mini.h5), STEPS (timed steps, default 3)
set -eu
ROUNDS=${1:-3}
VENV=${VENV:-${ALAVERIFY_BENCH_VENV:-$HOME/.cache/alaverify-bench-venv}}
TORCH_VENV=${TORCH_VENV:-/work/torch-venv}
DATA=${ALAVERIFY_CJK_MINI:-../shared/data/cjk-mini.h5}
STEPS=${STEPS:-3}
[ -x "$TORCH_VENV/bin/python" ] || { echo "run_resnet: no PyTorch venv in $TORCH_VENV (python3 -m venv DIR && DIR/bin/pip install torch numpy h5py; set TORCH_VENV)" >&2; exit 1; }
OUT=bench/out
mkdir -p "$OUT"
if [ ! -f "$OUT/cjk-mini/images.u8" ]; then
  [ -f "$DATA" ] || { echo "run_resnet: $DATA not found; set ALAVERIFY_CJK_MINI to cjk-mini.h5" >&2; exit 1; }
  "$VENV/bin/python" bench/train_bench/export_data.py "$DATA" "$OUT/cjk-mini"
fi
cc -O2 -shared -fPIC -o "$OUT/alloc_count.so" bench/train_bench/alloc_count.c -ldl
(cd bench/train_bench && swift build -c release 2>&1 | tail -1)
BIN=bench/train_bench/.build/release/train-bench
RESULTS="$OUT/resnet_bench.jsonl"
: > "$RESULTS"
for r in $(seq "$ROUNDS"); do
  for t in 1 2; do
    "$BIN" --mode peak --threads $t --repeats 3 >> "$RESULTS"
    LD_PRELOAD="$PWD/$OUT/alloc_count.so" "$BIN" --data "$OUT/cjk-mini" --model resnet --loss cosface --threads $t \
      --steps "$STEPS" --repeats 3 --warmup 1 | tail -1 >> "$RESULTS"
    "$TORCH_VENV/bin/python" bench/train_bench/torch_bench.py --data "$OUT/cjk-mini" --threads $t --steps "$STEPS" \
      --repeats 3 --warmup 1 2>/dev/null | tail -1 >> "$RESULTS"
  done
done
"$VENV/bin/python" - "$RESULTS" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1])]
# Training FLOP per sample of the default ResNet on 32x32: forward multiply-adds of the convolutions and
# the embedding layer, x2 for FLOP, x3 for forward + weight gradient + input gradient (none for the stem's input).
macs = 32*1*9*1024 + 2*32*32*9*1024 + (64*32*9*256 + 64*64*9*256 + 64*32*256) + (128*64*9*64 + 128*128*9*64 + 128*64*64) + 128*128
flop = 2 * (3 * macs - 32*1*9*1024)
def med(impl, t, key="median_samples_per_s"):
    v = [r[key] for r in rows if r["impl"] == impl and r["threads"] == t]
    return statistics.median(v) if v else float("nan")
print(f"training FLOP per sample: {flop / 1e6:.1f} M")
print("threads  alaverify samples/s  PyTorch samples/s  ratio  alaverify GFLOP/s  PyTorch GFLOP/s  sgemm 1024^3 GFLOP/s  allocations/step")
for t in (1, 2):
    s, p, peak = med("swift", t), med("pytorch", t), med("sgemm-peak", t, "gflops")
    allocs = sorted({r["max_allocations_per_step"] for r in rows if r["impl"] == "swift" and r["threads"] == t})
    print(f"{t:7d}  {s:19.1f}  {p:17.1f}  {s / p:5.2f}  {s * flop / 1e9:17.1f}  {p * flop / 1e9:15.1f}  {peak:20.1f}  {allocs}")
s1, s2 = med("swift", 1), med("swift", 2)
print(f"alaverify 2 threads / 1 thread: {s2 / s1:.2f}")
per_round = [(r["median_samples_per_s"]) for r in rows if r["impl"] in ("swift", "pytorch") and r["threads"] == 2]
print("per round, 2 threads (alaverify, PyTorch):", [round(x) for x in per_round])
PY
