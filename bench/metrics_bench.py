"""Benchmarks of the metric engine against what users would otherwise run (issue 2, Performance).

  (a) whole process: `alaverify metrics F.h5 --far 1e-4 --far 1e-3` vs bench/sklearn_peer.py
      (h5py + scikit-learn) on 1e7 impostor + 1e5 genuine float32 scores; median of 3, same run.
  (b) operating points alone on 1e8 impostor scores, in memory: MetricsBench `oppoints`
      (ScoreSet.operatingPointsOnly: radix selection + linear scans) vs numpy np.partition + count.
  (c) full-curve sort of 1e7 float32: MetricsBench `sort` (radix) vs numpy np.sort.
  (d) peak memory (max RSS, /usr/bin/time -v) of the (a) metrics process vs the score bytes.
  (e) the same peak memory at scale: `alaverify metrics F.h5 --far 1e-4 --far 1e-3` on 1e8 impostor
      + 1e6 genuine float32 scores, where the process's fixed floor no longer hides the ratio.

Usage: $PYTHON bench/metrics_bench.py --bin .build/release/alaverify --bench-bin MetricsBench
       [--impostors 1e7] [--genuine 1e5] [--big 1e8] [--memory-big 1e8] [--repeats 3] [--only a,b,c,d,e] [--out bench/out]
Numpy commands run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from their environment.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scorefiles import verification_scores, write_h5  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def numpy_env():
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    return env


def timed(cmd, env=None):
    """(seconds, max RSS in KiB, stdout) of one whole process under /usr/bin/time -v."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return elapsed, rss, p.stdout


def bench_a_d(args, workdir):
    g, i = verification_scores(args.seed, int(args.impostors), int(args.genuine))
    path = os.path.join(workdir, "scores.h5")
    write_h5(path, g, i, shuffle_seed=args.seed)
    score_bytes = (g.size + i.size) * 4
    label_bytes = g.size + i.size
    ours_cmd = [args.bin, "metrics", path, "--far", "1e-4", "--far", "1e-3", "--json", "-"]
    peer_cmd = [args.python, os.path.join(HERE, "sklearn_peer.py"), path, "--far", "1e-4", "--far", "1e-3"]
    probe = subprocess.run(ours_cmd, capture_output=True, text=True)
    result = {"impostors": int(i.size), "genuine": int(g.size), "dtype": "float32", "score_bytes": score_bytes,
              "label_bytes": label_bytes}
    if probe.returncode != 0:
        result["skipped"] = f"alaverify cannot run on the HDF5 file: {probe.stderr.strip()}"
        return result, None
    ours, peer, rss, peer_rss = [], [], [], []
    for _ in range(args.repeats):  # interleaved, same run
        t, m, _ = timed(ours_cmd)
        ours.append(t)
        rss.append(m)
        t, m_peer, peer_out = timed(peer_cmd, env=numpy_env())
        peer.append(t)
        peer_rss.append(m_peer)
    # Results of both, for the record (the agreement script checks them in detail).
    ours_json = json.loads(probe.stdout)
    sysm = ours_json["systems"][0]
    result.update({
        "alaverify_seconds": ours, "sklearn_seconds": peer,
        "alaverify_median": statistics.median(ours), "sklearn_median": statistics.median(peer),
        "speedup": statistics.median(peer) / statistics.median(ours),
        "alaverify_roc_auc": sysm["roc_auc"], "sklearn": json.loads(peer_out),
    })
    # The process's own floor (runtime, Foundation, HDF5): the same command on a 2-score file.
    tiny = os.path.join(workdir, "tiny.h5")
    write_h5(tiny, [1.0], [0.0])
    _, floor_kib, _ = timed([args.bin, "metrics", tiny, "--far", "1e-4", "--json", "-"])
    memory = {"max_rss_kib": rss, "max_rss_bytes_median": statistics.median(rss) * 1024,
              "process_floor_bytes": floor_kib * 1024,
              "rss_above_floor_over_score_bytes": (statistics.median(rss) - floor_kib) * 1024 / score_bytes,
              "score_bytes": score_bytes, "score_and_label_bytes": score_bytes + label_bytes,
              "rss_over_score_bytes": statistics.median(rss) * 1024 / score_bytes,
              "rss_over_file_payload": statistics.median(rss) * 1024 / (score_bytes + label_bytes),
              "sklearn_max_rss_kib": peer_rss, "sklearn_rss_over_score_bytes": statistics.median(peer_rss) * 1024 / score_bytes}
    return result, memory


def bench_e(args, workdir):
    """Peak RSS of the whole metrics process on a file 10x larger than (a)'s (no peer timing)."""
    n_imp, n_gen = int(args.memory_big), int(args.memory_big) // 100
    g, i = verification_scores(args.seed + 3, n_imp, n_gen)
    path = os.path.join(workdir, "scores_big.h5")
    write_h5(path, g, i)
    del g, i
    score_bytes, label_bytes = (n_imp + n_gen) * 4, n_imp + n_gen
    cmd = [args.bin, "metrics", path, "--far", "1e-4", "--far", "1e-3", "--json", "-"]
    seconds, rss = [], []
    for _ in range(args.repeats):
        t, m, out = timed(cmd)
        seconds.append(t)
        rss.append(m)
    os.remove(path)
    median = statistics.median(rss) * 1024
    return {"impostors": n_imp, "genuine": n_gen, "score_bytes": score_bytes, "label_bytes": label_bytes,
            "max_rss_kib": rss, "max_rss_bytes_median": median, "seconds": seconds,
            "rss_over_score_bytes": median / score_bytes,
            "rss_over_file_payload": median / (score_bytes + label_bytes),
            "roc_auc": json.loads(out)["systems"][0]["roc_auc"]}


NUMPY_OPPOINTS = r"""
import json, math, sys, time
import numpy as np
imp = np.fromfile(sys.argv[1], dtype=np.float32)
gen = np.fromfile(sys.argv[2], dtype=np.float32)
fars = [float(a) for a in sys.argv[4:]]
times = []
for _ in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    points = []
    n = imp.size
    for a in fars:
        K = math.floor(a * n)
        v = np.partition(imp, n - K - 1)[n - K - 1]      # the (K+1)-th largest impostor score
        above = imp[imp > v]
        k = above.size                                   # false accepts at the chosen threshold
        gabove = gen[gen > v]
        t = min(above.min() if k else np.inf, gabove.min() if gabove.size else np.inf)
        fr = int(np.count_nonzero(gen < t))
        points.append({"threshold": float(t), "false_accepts": int(k), "false_rejects": fr})
    times.append(time.perf_counter() - t0)
print(json.dumps({"seconds": times, "median": sorted(times)[len(times) // 2], "operating_points": points}))
"""

NUMPY_SORT = r"""
import json, sys, time
import numpy as np
x = np.fromfile(sys.argv[1], dtype=np.float32)
times = []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    s = np.sort(x)
    times.append(time.perf_counter() - t0)
print(json.dumps({"seconds": times, "median": sorted(times)[len(times) // 2], "n": int(s.size)}))
"""


def bench_b(args, workdir):
    n = int(args.big)
    rng = np.random.default_rng(args.seed + 1)
    imp_path = os.path.join(workdir, "impostor_big.f32")
    gen_path = os.path.join(workdir, "genuine_big.f32")
    # Write in chunks to keep the generator's memory small.
    with open(imp_path, "wb") as f:
        for start in range(0, n, 10_000_000):
            rng.standard_normal(min(10_000_000, n - start), dtype=np.float32).tofile(f)
    (rng.standard_normal(int(args.genuine), dtype=np.float32) + 3.5).tofile(gen_path)
    fars = ["1e-4", "1e-3"]
    ours = json.loads(subprocess.run(
        [args.bench_bin, "oppoints", imp_path, gen_path, "--repeats", str(args.repeats)]
        + sum([["--far", a] for a in fars], []), capture_output=True, text=True, check=True).stdout)
    peer = json.loads(subprocess.run(
        [args.python, "-c", NUMPY_OPPOINTS, imp_path, gen_path, str(args.repeats)] + fars,
        capture_output=True, text=True, check=True, env=numpy_env()).stdout)
    same = all(o["threshold"] == p["threshold"] and o["false_accepts"] == p["false_accepts"]
               and o["false_rejects"] == p["false_rejects"]
               for o, p in zip(ours["operating_points"], peer["operating_points"]))
    os.remove(imp_path)
    return {"impostors": n, "genuine": int(args.genuine), "targets": fars,
            "alaverify_seconds": ours["seconds"], "numpy_seconds": peer["seconds"],
            "alaverify_median": ours["median"], "numpy_median": peer["median"],
            "ratio_alaverify_over_numpy": ours["median"] / peer["median"],
            "same_results": same, "alaverify_points": ours["operating_points"], "numpy_points": peer["operating_points"]}


def bench_c(args, workdir):
    n = int(args.impostors)
    path = os.path.join(workdir, "sort.f32")
    np.random.default_rng(args.seed + 2).standard_normal(n, dtype=np.float32).tofile(path)
    ours = json.loads(subprocess.run([args.bench_bin, "sort", path, "--repeats", str(args.repeats)],
                                     capture_output=True, text=True, check=True).stdout)
    peer = json.loads(subprocess.run([args.python, "-c", NUMPY_SORT, path, str(args.repeats)],
                                     capture_output=True, text=True, check=True, env=numpy_env()).stdout)
    return {"n": n, "dtype": "float32", "alaverify_seconds": ours["seconds"], "numpy_seconds": peer["seconds"],
            "alaverify_median": ours["median"], "numpy_median": peer["median"],
            "speedup": peer["median"] / ours["median"]}


def markdown(results):
    rows = ["| benchmark | alaverify | peer | ratio | target |", "|---|---|---|---|---|"]
    a = results.get("a")
    if a and "skipped" not in a:
        rows.append(f"| (a) `metrics F.h5 --far 1e-4 --far 1e-3`, {a['impostors']:.0e} imp + {a['genuine']:.0e} gen "
                    f"float32, whole process | {a['alaverify_median']:.2f} s | h5py+scikit-learn "
                    f"{a['sklearn_median']:.2f} s | **{a['speedup']:.1f}x faster** | >= 20x |")
    elif a:
        rows.append(f"| (a) whole process on HDF5 | skipped | | | {a['skipped']} |")
    b = results.get("b")
    if b:
        rows.append(f"| (b) operating points alone, {b['impostors']:.0e} impostors in memory | "
                    f"{b['alaverify_median']:.3f} s | numpy partition+count {b['numpy_median']:.3f} s | "
                    f"**{b['ratio_alaverify_over_numpy']:.2f}x numpy's time** (same results: {b['same_results']}) | <= 1.5x |")
    c = results.get("c")
    if c:
        rows.append(f"| (c) full-curve sort, {c['n']:.0e} float32 (radix, in place on a fresh copy) | {c['alaverify_median']:.3f} s | "
                    f"np.sort (copy + sort) {c['numpy_median']:.3f} s | **{c['speedup']:.2f}x faster** | radix, not comparison |")
    d = results.get("d")
    if d:
        rows.append(f"| (d) peak RSS of the (a) metrics process | {d['max_rss_bytes_median'] / 2**20:.0f} MiB | "
                    f"scores {d['score_bytes'] / 2**20:.0f} MiB (+ labels {(d['score_and_label_bytes'] - d['score_bytes']) / 2**20:.0f} MiB) | "
                    f"**{d['rss_over_score_bytes']:.2f}x the score bytes** ({d['rss_above_floor_over_score_bytes']:.2f}x above the "
                    f"{d['process_floor_bytes'] / 2**20:.0f} MiB process floor) | <= ~1.5x |")
    e = results.get("e")
    if e:
        rows.append(f"| (e) peak RSS, same command on {e['impostors']:.0e} imp + {e['genuine']:.0e} gen float32 | "
                    f"{e['max_rss_bytes_median'] / 2**20:.0f} MiB | scores {e['score_bytes'] / 2**20:.0f} MiB "
                    f"(+ labels {e['label_bytes'] / 2**20:.0f} MiB) | **{e['rss_over_score_bytes']:.2f}x the score bytes**, "
                    f"whole process | <= ~1.5x |")
    return "\n".join(rows) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("ALAVERIFY_BIN", ".build/release/alaverify"))
    ap.add_argument("--bench-bin", default="bench/MetricsBench/.build/release/MetricsBench")
    ap.add_argument("--python", default=os.environ.get("PYTHON", sys.executable))
    ap.add_argument("--impostors", type=float, default=1e7)
    ap.add_argument("--genuine", type=float, default=1e5)
    ap.add_argument("--big", type=float, default=1e8)
    ap.add_argument("--memory-big", type=float, default=1e8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--only", default="a,b,c,d,e")
    ap.add_argument("--out", default="bench/out")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    args.bench_bin = os.path.abspath(args.bench_bin)
    only = set(args.only.split(","))
    os.makedirs(args.out, exist_ok=True)
    results = {"machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()},
               "numpy": np.__version__}
    with tempfile.TemporaryDirectory(prefix="alaverify-bench-") as workdir:
        if only & {"a", "d"}:
            a, d = bench_a_d(args, workdir)
            results["a"] = a
            if d:
                results["d"] = d
            print("(a)", json.dumps(a)[:400])
        if "b" in only:
            results["b"] = bench_b(args, workdir)
            print("(b)", json.dumps(results["b"])[:400])
        if "c" in only:
            results["c"] = bench_c(args, workdir)
            print("(c)", json.dumps(results["c"])[:400])
        if "e" in only:
            results["e"] = bench_e(args, workdir)
            print("(e)", json.dumps(results["e"])[:400])
    results["machine"]["load_after"] = os.getloadavg()
    with open(os.path.join(args.out, "metrics_bench.json"), "w") as f:
        json.dump(results, f, indent=2)
    md = markdown(results)
    with open(os.path.join(args.out, "metrics_bench.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
