#!/usr/bin/env bash
# Sharded scoring at scale (issue 14): all pairs of fonts-glyphs32-dev.h5 capped at CAP samples
# per identity (CAP=250: 47,436 samples, 1.125e9 comparisons) scored as SHARDS shard processes
# run one after another on one core each (ALAVERIFY_THREADS=1), then merged; and, on a smaller
# set (CAP_SMALL=62: 23,250 samples, 2.7e8 comparisons) that fits in memory, the unsharded
# score + metrics against the same shards merged (byte-for-byte equal JSON and the cost of each).
#
#   bench/run_shard_bench.sh [BIN]     results: bench/out/shards.tsv, bench/out/shards.md
#
# Env: ALAVERIFY_FONTS_H5 (default ../shared/data/fonts-glyphs32-dev.h5), SHARDS (16), CAP (250),
# CAP_SMALL (62), MODEL (a run folder; default: a 128-d CNN trained here for 300 steps, ~30 s),
# WORK (bench/out/shards; shard files and, for the small set, a 3.5 GB scores file, removed at the end).
set -euo pipefail
BIN=$(realpath "${1:-.build/release/alaverify}")
cd "$(dirname "$0")/.."
DATA=$(realpath "${ALAVERIFY_FONTS_H5:-../shared/data/fonts-glyphs32-dev.h5}")
SHARDS=${SHARDS:-16}
CAP=${CAP:-250}
CAP_SMALL=${CAP_SMALL:-62}
WORK=${WORK:-bench/out/shards}
mkdir -p "$WORK" bench/out
WORK=$(realpath "$WORK")
TSV=bench/out/shards.tsv
MD=bench/out/shards.md
FARS=(--far 1e-4 --far 1e-3 --far 1e-2)

MODEL=${MODEL:-$WORK/model-cnn128}
if [ ! -f "$MODEL/model.h5" ]; then
  echo "training the benchmark model (CNN, 128-d, 300 steps) into $MODEL"
  "$BIN" train --data "$DATA" --network cnn --embedding 128 --loss-control fixed --steps 300 --interval 100 \
    --validation-samples 8 --test-samples 4 --out "$MODEL" > "$WORK/train.log"
fi

# timed LABEL CMD...: runs CMD under /usr/bin/time; appends "LABEL wall_s maxrss_kib" to $TSV.
timed() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@"
  echo -e "$label\t$(cut -d' ' -f1 "$WORK/time.txt")\t$(cut -d' ' -f2 "$WORK/time.txt")" >> "$TSV"
}

echo -e "step\twall_s\tmax_rss_kib" > "$TSV"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) at start, $(nproc) cores" > "$WORK/load.txt"

# 1. The 1e9 run: SHARDS shards on one core each, then the merge.
big=$WORK/big
rm -rf "$big"; mkdir -p "$big"
for i in $(seq 1 "$SHARDS"); do
  ALAVERIFY_THREADS=1 timed "shard $i/$SHARDS" "$BIN" score --model "$MODEL" --data "$DATA" --split all \
    --samples-per-identity "$CAP" --shard "$i/$SHARDS" --out "$big/scores.h5" | tee -a "$WORK/shards.log"
done
for threads in 1 2; do
  ALAVERIFY_THREADS=$threads timed "merge ($threads threads)" "$BIN" metrics --merge "$big"/scores.shard-*-of-"$SHARDS".h5 \
    "${FARS[@]}" --json "$big/metrics.json" > "$WORK/merge.log"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) after the 1e9 run" >> "$WORK/load.txt"

# 2. Unsharded against sharded where the unsharded engine fits: same JSON, and what each costs.
small=$WORK/small
rm -rf "$small"; mkdir -p "$small"
ALAVERIFY_THREADS=1 timed "small: unsharded score" "$BIN" score --model "$MODEL" --data "$DATA" --split all \
  --samples-per-identity "$CAP_SMALL" --out "$small/scores.h5" > "$small/score.log"
ALAVERIFY_THREADS=1 timed "small: unsharded metrics" "$BIN" metrics "$small/scores.h5" "${FARS[@]}" --ci conservative \
  --json "$small/unsharded.json" > /dev/null
for i in 1 2 3 4; do
  ALAVERIFY_THREADS=1 timed "small: shard $i/4" "$BIN" score --model "$MODEL" --data "$DATA" --split all \
    --samples-per-identity "$CAP_SMALL" --shard "$i/4" --out "$small/scores.h5" >> "$small/shards.log"
done
ALAVERIFY_THREADS=1 timed "small: merge (1 thread)" "$BIN" metrics --merge "$small"/scores.shard-*-of-4.h5 "${FARS[@]}" \
  --json "$small/merged.json" > /dev/null
# The shards stand for $small/scores.h5, the unsharded file: the two JSONs must be the same bytes.
if cmp -s "$small/unsharded.json" "$small/merged.json"; then equal=yes; else equal=NO; fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) at the end" >> "$WORK/load.txt"

# Summary.
python3 - "$TSV" "$big" "$small" "$SHARDS" "$equal" "$WORK" > "$MD" <<'EOF'
import csv, glob, json, os, re, sys
tsv, big, small, shards, equal, work = sys.argv[1:]
rows = list(csv.DictReader(open(tsv), delimiter="\t"))
lines = open(os.path.join(work, "shards.log")).read().splitlines()
pairs = embedded = scoring = 0
for line in lines:
    m = re.search(r"(\d+) of (\d+) pairs.*embedded (\d+) of (\d+) tiles; ([\d.]+) s \(scoring ([\d.]+) s\)", line)
    if m:
        pairs += int(m.group(1)); total = int(m.group(2)); scoring += float(m.group(6))
shard_rows = [r for r in rows if r["step"].startswith("shard ")]
wall = sum(float(r["wall_s"]) for r in shard_rows)
rss = max(int(r["max_rss_kib"]) for r in shard_rows) / 1024
summary = sum(os.path.getsize(f) for f in glob.glob(os.path.join(big, "scores.shard-*.h5")))
raw = total * (4 + 1 + 8)  # float32 score, label byte, two int32 identities per comparison
get = lambda label: next(r for r in rows if r["step"] == label)
print(f"comparisons: {total:,} ({pairs:,} scored by the shards)")
print(f"shards: {shards}, one core each, one after another: {wall:.1f} s of shard processes "
      f"({total / wall / 1e6:.1f} M pairs/s per core end to end; {total / scoring / 1e6:.1f} M pairs/s per core in scoring)")
print(f"peak RSS per shard: {rss:.0f} MiB (max over shards)")
print(f"summaries: {summary / 2**20:.0f} MiB in all ({summary / total:.3f} bytes per comparison); "
      f"raw scores with labels and identities: {raw / 2**30:.1f} GiB")
for t in (1, 2):
    r = get(f"merge ({t} threads)")
    print(f"merge, {t} thread(s): {float(r['wall_s']):.1f} s, peak RSS {int(r['max_rss_kib']) / 1024:.0f} MiB")
for r in rows:
    if r["step"].startswith("small: ") and "shard" not in r["step"]:
        print(f"{r['step']}: {float(r['wall_s']):.1f} s, peak RSS {int(r['max_rss_kib']) / 1024:.0f} MiB")
small_shards = [r for r in rows if r["step"].startswith("small: shard")]
print(f"small: 4 shards: {sum(float(r['wall_s']) for r in small_shards):.1f} s in all, peak RSS "
      f"{max(int(r['max_rss_kib']) for r in small_shards) / 1024:.0f} MiB")
print(f"small: merged JSON equals the unsharded JSON byte for byte: {equal}")
print(open(os.path.join(work, "load.txt")).read().strip())
EOF
cat "$MD"
rm -f "$small/scores.h5"
[ "$equal" = yes ]
