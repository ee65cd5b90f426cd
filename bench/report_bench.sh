#!/usr/bin/env bash
# `alaverify report` on 1e7 scores against scikit-learn DetCurveDisplay + matplotlib savefig on
# the same CSV, median of REPEATS runs each, in the same session. Results: bench/out/report/.
#
# usage: bench/report_bench.sh [BIN]     (default BIN: .build/release/alaverify)
# env:   PYTHON  interpreter with numpy, scikit-learn, matplotlib (default: python3)
#        REPEATS runs per tool (default 3);  GENUINE / IMPOSTOR  score counts (default 1e5 / 9.9e6)
#        FORMAT  h5 (default: HDF5 alaverify-scores, read with h5py by the peer) or csv
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/alaverify}
PYTHON=${PYTHON:-python3}
REPEATS=${REPEATS:-3}
GENUINE=${GENUINE:-100000}
IMPOSTOR=${IMPOSTOR:-9900000}
OUT=bench/out/report
mkdir -p "$OUT"
FORMAT=${FORMAT:-h5}
DATA="$OUT/scores-$GENUINE-$IMPOSTOR.$FORMAT"
[ -x "$BIN" ] || { echo "report_bench: $BIN is not built (make release)" >&2; exit 1; }
"$PYTHON" -c "import numpy, sklearn, matplotlib" || { echo "report_bench: $PYTHON lacks numpy/scikit-learn/matplotlib" >&2; exit 1; }
[ -f "$DATA" ] || "$PYTHON" bench/make_scores.py "$DATA" --genuine "$GENUINE" --impostor "$IMPOSTOR"

rm -f "$OUT/python_phases.jsonl"
# Where alaverify's time goes (one extra run; phases on stderr).
ALAVERIFY_TIMING=1 "$BIN" report "$DATA" --out "$OUT/alaverify" --force --far 1e-4 --far 1e-3 --far 1e-2 2> "$OUT/alaverify_phases.txt" > /dev/null
cat "$OUT/alaverify_phases.txt"
# Wall and CPU (user + sys) seconds of each whole process, via GNU time.
swift_times=() swift_cpu=() python_times=() python_cpu=() python_plot=()
for r in $(seq "$REPEATS"); do
  /usr/bin/time -f "%e %U %S" -o "$OUT/time.txt" "$BIN" report "$DATA" --out "$OUT/alaverify" --force --far 1e-4 --far 1e-3 --far 1e-2 > /dev/null
  read -r wall user sys < "$OUT/time.txt"
  swift_times+=("$wall"); swift_cpu+=("$(echo "$user + $sys" | bc -l)")
  phases=$(/usr/bin/time -f "%e %U %S" -o "$OUT/time.txt" "$PYTHON" bench/report_peer.py "$DATA" "$OUT/sklearn-det.png")
  read -r wall user sys < "$OUT/time.txt"
  python_times+=("$wall"); python_cpu+=("$(echo "$user + $sys" | bc -l)")
  python_plot+=("$(echo "$phases" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["det_and_savefig_s"])')")
  echo "$phases" >> "$OUT/python_phases.jsonl"
  echo "run $r: alaverify ${swift_times[-1]} s wall (${swift_cpu[-1]} s cpu); python ${python_times[-1]} s wall (${python_cpu[-1]} s cpu; det+savefig ${python_plot[-1]} s wall)"
done
"$PYTHON" - "$OUT/report_bench.json" "$GENUINE" "$IMPOSTOR" "${swift_times[*]}" "${python_times[*]}" "${python_plot[*]}" "${swift_cpu[*]}" "${python_cpu[*]}" <<'PY'
import json, statistics, sys
out, g, i = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sw, py, pp, sc, pc = ([float(x) for x in a.split()] for a in sys.argv[4:9])
m = {"scores": g + i, "genuine": g, "impostor": i, "runs": len(sw),
     "alaverify_report_s": statistics.median(sw), "sklearn_total_s": statistics.median(py),
     "sklearn_det_savefig_only_s": statistics.median(pp),
     "alaverify_report_cpu_s": statistics.median(sc), "sklearn_total_cpu_s": statistics.median(pc)}
m["speedup_cpu"] = m["sklearn_total_cpu_s"] / m["alaverify_report_cpu_s"]
m["speedup_end_to_end"] = m["sklearn_total_s"] / m["alaverify_report_s"]
m["speedup_vs_plot_only"] = m["sklearn_det_savefig_only_s"] / m["alaverify_report_s"]
json.dump(m, open(out, "w"), indent=2)
print(f"median of {len(sw)}: alaverify report {m['alaverify_report_s']:.2f} s (CSV parse, metrics with CIs, 4 PNGs, summary)")
print(f"          scikit-learn + matplotlib {m['sklearn_total_s']:.2f} s end to end, {m['sklearn_det_savefig_only_s']:.2f} s for DetCurveDisplay + savefig alone")
print(f"cpu (user+sys): alaverify {m['alaverify_report_cpu_s']:.2f} s, python {m['sklearn_total_cpu_s']:.2f} s")
print(f"speed-up: {m['speedup_end_to_end']:.1f}x end to end (wall), {m['speedup_cpu']:.1f}x in cpu, {m['speedup_vs_plot_only']:.1f}x against the plot step alone")
PY
