#!/usr/bin/env bash
# Streaming training batches: `alaverify train` on fonts-glyphs32-dev.h5 with the train split in
# memory and with --stream (batches read from the file on a background thread), CNN and MLP, in the
# same session and alternating. Records the stall time (the trainer waiting for a batch), its share
# of training time, the prefetch thread's read time, samples/s (harmonic mean of the printed
# per-interval figures = all samples / all training seconds) and peak RSS (GNU time) of the whole
# run and of its training phase alone (a second run stopped after the first interval).
#
# usage: bench/run_stream_bench.sh [BIN]     (default BIN: .build/release/alaverify)
# env:   ALAVERIFY_FONTS_H5  the data (default ../shared/data/fonts-glyphs32-dev.h5)
#        STEPS (default 300), INTERVAL (default 100), ROUNDS (default 1), PYTHON (default python3)
#        COPIES  also measure the training phase's peak RSS on the data replicated COPIES times
#                (bench/replicate_samples.py, needs h5py; default 0: skip)
# Results: bench/out/stream/*.log and bench/out/stream/stream_bench.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/alaverify}
PYTHON=${PYTHON:-python3}
DATA=${ALAVERIFY_FONTS_H5:-../shared/data/fonts-glyphs32-dev.h5}
STEPS=${STEPS:-300}
INTERVAL=${INTERVAL:-100}
ROUNDS=${ROUNDS:-1}
OUT=bench/out/stream
[ -x "$BIN" ] || { echo "run_stream_bench.sh: $BIN is not built (make release)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "run_stream_bench.sh: needs GNU time in /usr/bin/time (apt-get install time)" >&2; exit 1; }
if [ ! -f "$DATA" ]; then
  echo "run_stream_bench.sh: $DATA not found; set ALAVERIFY_FONTS_H5 to fonts-glyphs32-dev.h5" >&2
  exit 66
fi
mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT"/*.time "$OUT"/*.stop "$OUT"/*.stoptime "$OUT"/*.big "$OUT"/*.bigtime
echo "load before: $(uptime)" | tee "$OUT/load.txt"
for round in $(seq "$ROUNDS"); do
  for network in cnn mlp; do
    for mode in memory stream; do
      flag=()
      [ "$mode" = stream ] && flag=(--stream)
      name="$network-$mode-$round"
      echo "== $name"
      /usr/bin/time -v "$BIN" train --data "$DATA" --split 0.5,0.25,0.25 --network "$network" --loss-control fixed \
        --steps "$STEPS" --interval "$INTERVAL" "${flag[@]}" --out "$OUT/run-$name" --force \
        >"$OUT/$name.log" 2>"$OUT/$name.time"
      grep -E "^step |^data:|^time:|^read " "$OUT/$name.log" || true
      grep -E "Maximum resident|Elapsed" "$OUT/$name.time"
      # The peak above is set by scoring the test split's all pairs at the end; this one stops
      # after the first interval's checkpoint, so it is the training phase's own peak.
      /usr/bin/time -v "$BIN" train --data "$DATA" --split 0.5,0.25,0.25 --network "$network" --loss-control fixed \
        --steps "$STEPS" --interval "$INTERVAL" --stop-after "$INTERVAL" "${flag[@]}" --out "$OUT/run-$name-stop" --force \
        >"$OUT/$name.stop" 2>"$OUT/$name.stoptime"
      grep -E "Maximum resident" "$OUT/$name.stoptime"
    done
  done
done
# Memory against file size: the same data replicated COPIES times (needs h5py), training phase only.
if [ "${COPIES:-0}" -gt 1 ]; then
  BIG="$OUT/replicated-x$COPIES.h5"
  [ -f "$BIG" ] || "$PYTHON" bench/replicate_samples.py "$DATA" "$BIG" --copies "$COPIES"
  for mode in memory stream; do
    flag=()
    [ "$mode" = stream ] && flag=(--stream)
    echo "== x$COPIES mlp-$mode (training phase)"
    /usr/bin/time -v "$BIN" train --data "$BIG" --split 0.5,0.25,0.25 --network mlp --loss-control fixed \
      --steps "$STEPS" --interval "$INTERVAL" --stop-after "$INTERVAL" "${flag[@]}" --out "$OUT/run-x$COPIES-$mode" --force \
      >"$OUT/x$COPIES-$mode.big" 2>"$OUT/x$COPIES-$mode.bigtime"
    grep -E "^step |^read " "$OUT/x$COPIES-$mode.big" || true
    grep -E "Maximum resident" "$OUT/x$COPIES-$mode.bigtime"
  done
fi
echo "load after: $(uptime)" | tee -a "$OUT/load.txt"

"$PYTHON" - "$OUT" <<'EOF'
import glob, os, re, statistics, sys
out = sys.argv[1]
rows = {}
for log in sorted(glob.glob(os.path.join(out, "*.log"))):
    name = os.path.basename(log)[:-4]
    network, mode, _ = name.split("-")
    text = open(log).read()
    rates = [float(r) for r in re.findall(r"^step \d+/\d+\s+(\d+) samples/s", text, re.M)]
    peak = lambda path: int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read()).group(1)) / 1024
    rss, training_rss = peak(log[:-4] + ".time"), peak(log[:-4] + ".stoptime")
    data = re.search(r"^data: streamed (\d+) batches, stall ([\d.]+) s \(([\d.]+)% of training\), reads ([\d.]+) s", text, re.M)
    r = rows.setdefault((network, mode), {"rate": [], "rss": [], "trss": [], "stall": [], "share": [], "reads": []})
    r["rate"].append(len(rates) / sum(1 / x for x in rates))
    r["rss"].append(rss)
    r["trss"].append(training_rss)
    if data:
        r["stall"].append(float(data.group(2))); r["share"].append(float(data.group(3))); r["reads"].append(float(data.group(4)))
lines = ["| network | train split | samples/s | stall | stall share | prefetch reads | peak RSS, training | peak RSS, whole run |",
         "|---|---|---|---|---|---|---|---|"]
for (network, mode), r in sorted(rows.items()):
    med = lambda k: statistics.median(r[k]) if r[k] else None
    fmt = lambda v, f: f % v if v is not None else "-"
    lines.append(f"| {network} | {'--stream' if mode == 'stream' else 'in memory'} | {med('rate'):.0f} | {fmt(med('stall'), '%.2f s')} | "
                 f"{fmt(med('share'), '%.1f%%')} | {fmt(med('reads'), '%.1f s')} | {med('trss'):.0f} MiB | {med('rss'):.0f} MiB |")
for big in sorted(glob.glob(os.path.join(out, "*.bigtime"))):
    name = os.path.basename(big)[:-8]
    copies, mode = name.split("-")
    lines.append(f"| mlp, data {copies} | {'--stream' if mode == 'stream' else 'in memory'} | | | | | {peak(big):.0f} MiB | |")
table = "\n".join(lines)
open(os.path.join(out, "stream_bench.md"), "w").write(table + "\n")
print(table)
EOF
