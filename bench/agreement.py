"""Agreement of `alaverify metrics` with the independent reference (bench/reference_metrics.py)
on random tie-heavy score sets with NaNs, and with scikit-learn on 1e7 scores.

Usage:
  $PYTHON bench/agreement.py [--bin .build/release/alaverify] [--cases 200] [--seed 1]
                             [--sklearn-n 10000000] [--skip-sklearn] [--out bench/out/agreement.json]

Counts and thresholds must agree exactly; floating values to 1e-9 (absolute). Exit 1 on any
disagreement, with the seed and case index needed to reproduce it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_metrics as ref  # noqa: E402
from scorefiles import read_h5, verification_scores, write_csv, write_h5  # noqa: E402

TOL = 1e-9


def as_float(v):
    """A JSON number or the strings "inf"/"-inf"; None stays None."""
    if v is None:
        return None
    if v == "inf":
        return math.inf
    if v == "-inf":
        return -math.inf
    return float(v)


def run_cli(binary, path, fars, frrs, rule="roc", polarity="similarity", paucs=()):
    cmd = [binary, "metrics", path, "--ci", "none", "--threshold-rule", rule, "--polarity", polarity, "--json", "-"]
    for a in fars:
        cmd += ["--far", repr(a)]
    for b in frrs:
        cmd += ["--frr", repr(b)]
    for a in paucs:
        cmd += ["--metric", f"pauc@far={a!r}"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)["systems"][0]


class Comparison:
    def __init__(self, label):
        self.label = label
        self.problems = []

    def exact(self, what, got, want):
        if isinstance(want, float) and isinstance(got, float) and math.isnan(want) and math.isnan(got):
            return
        if got != want:
            self.problems.append(f"{what}: got {got!r}, expected {want!r}")

    def close(self, what, got, want):
        if want is None or got is None:
            self.exact(what, got, want)
        elif not abs(got - want) <= TOL:
            self.problems.append(f"{what}: got {got!r}, expected {want!r} (|diff| {abs(got - want):.3g})")


def random_case(rng):
    """Tie-heavy scores on a coarse grid (exact in float32 and in decimal), NaNs, some +-inf."""
    nG = int(rng.integers(1, 60)) if rng.random() < 0.5 else int(rng.integers(1, 1500))
    nI = int(rng.integers(1, 60)) if rng.random() < 0.3 else int(rng.integers(1, 5000))
    grid = [4, 16, 64][int(rng.integers(0, 3))]
    g = np.round(rng.normal(1.5, 1.0, nG) * grid) / grid
    i = np.round(rng.normal(0.0, 1.0, nI) * grid) / grid
    for arr in (g, i):
        nan_rate = [0.0, 0.02, 0.1, 0.5][int(rng.integers(0, 4))]
        arr[rng.random(arr.size) < nan_rate] = np.nan
        if rng.random() < 0.2:
            arr[rng.random(arr.size) < 0.02] = np.inf
        if rng.random() < 0.2:
            arr[rng.random(arr.size) < 0.02] = -np.inf
        if rng.random() < 0.2:
            arr[rng.random(arr.size) < 0.05] = -0.0
    return g, i


def targets(rng, n):
    """Random rates in (0, 1) plus rates on exact count boundaries k / n."""
    out = [float(10 ** rng.uniform(-4, -0.05)) for _ in range(2)]
    k = int(rng.integers(1, max(2, n)))
    if k < n:
        out.append(k / n)
    return out


def compare_case(binary, workdir, index, seed, rng):
    g, i = random_case(rng)
    rule = ["roc", "impostor"][int(rng.integers(0, 2))]
    polarity = "distance" if rng.random() < 0.25 else "similarity"
    fars = targets(rng, i.size)
    frrs = targets(rng, g.size)
    paucs = [float(rng.uniform(0.01, 0.9))]
    # Distance scores: the same set seen as distances (negated), so thresholds flip sign.
    gin, iin = (-g, -i) if polarity == "distance" else (g, i)
    path = os.path.join(workdir, f"case{index}.csv")
    write_csv(path, gin, iin)
    got = run_cli(binary, path, fars, frrs, rule, polarity, paucs)
    want = ref.evaluate(gin, iin, fars=fars, frrs=frrs, rule=rule, polarity=polarity, paucs=paucs)

    c = Comparison(f"seed {seed} case {index} (nG {g.size}, nI {i.size}, rule {rule}, {polarity})")
    counts = got["counts"]
    c.exact("counts.genuine", counts["genuine"], want.genuine)
    c.exact("counts.impostor", counts["impostor"], want.impostor)
    c.exact("counts.genuine_failed", counts["genuine_failed"], want.genuine_failed)
    c.exact("counts.impostor_failed", counts["impostor_failed"], want.impostor_failed)
    eer = got.get("eer")
    c.close("eer.value", as_float(eer["value"]) if eer else None, want.eer)
    c.exact("eer.threshold", as_float(eer["threshold"]) if eer else None, want.eer_threshold)
    c.close("eer_rocch", as_float(got["eer_rocch"]), want.eer_rocch)
    c.close("roc_auc", as_float(got["roc_auc"]), want.roc_auc)
    c.close("average_precision", as_float(got["average_precision"]), want.average_precision)
    for entry in got.get("pauc", []):
        a = float(entry["name"].split("=", 1)[1])
        c.close(f"{entry['name']}", as_float(entry["value"]), want.pauc[a])

    ops = got["operating_points"]
    c.exact("operating point count", len(ops), len(want.operating_points))
    for op in ops:
        kind = op["name"].split("=")[0]
        matches = [w for w in want.operating_points if w.name.split("=")[0] == kind and w.target == op["target"]]
        if not matches:
            c.problems.append(f"unexpected operating point {op['name']} (target {op['target']})")
            continue
        w = matches[0]
        name = op["name"]
        c.exact(f"{name}.reachable", op.get("reachable", True), w.reachable)
        c.exact(f"{name}.threshold", as_float(op.get("threshold")), w.threshold)
        c.exact(f"{name}.false_accepts", op.get("false_accepts"), w.false_accepts)
        c.exact(f"{name}.false_rejects", op.get("false_rejects"), w.false_rejects)
        c.close(f"{name}.far", as_float(op.get("far")), w.far)
        c.close(f"{name}.frr", as_float(op.get("frr")), w.frr)
        c.exact(f"{name}.estimable", op["estimable"], w.estimable)
        if kind == "frr@far":
            c.exact(f"{name}.rule", op["rule"], rule)
    return c


def sklearn_check(binary, workdir, n_total, seed):
    """alaverify vs scikit-learn on n_total float32 scores (1% genuine), no NaNs (sklearn refuses them)."""
    from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

    n_genuine = n_total // 100
    g, i = verification_scores(seed, n_total - n_genuine, n_genuine)
    # Coarsen to 2^-12 steps so that ties are plentiful even at this size.
    g = (np.round(g.astype(np.float64) * 4096) / 4096).astype(np.float32)
    i = (np.round(i.astype(np.float64) * 4096) / 4096).astype(np.float32)
    path = os.path.join(workdir, "sklearn.h5")
    write_h5(path, g, i, shuffle_seed=seed)
    fars = [1e-4, 1e-3, 1e-2]
    t0 = time.perf_counter()
    try:
        got = run_cli(binary, path, fars, [])
        source = "hdf5"
    except RuntimeError as e:
        if "not supported" not in str(e):
            raise
        csv = os.path.join(workdir, "sklearn.csv")
        write_csv(csv, g, i)
        got = run_cli(binary, csv, fars, [])
        source = "csv (this build reads no HDF5 yet)"
    t_cli = time.perf_counter() - t0

    score, label = read_h5(path)
    s = score.astype(np.float64)
    auc = roc_auc_score(label, s)
    ap = average_precision_score(label, s)
    fpr, tpr, thr = roc_curve(label, s, drop_intermediate=False)
    nI, nG = int((label == 0).sum()), int((label == 1).sum())
    fa = np.rint(fpr * nI).astype(np.int64)
    fr = np.rint((1 - tpr) * nG).astype(np.int64)
    c = Comparison(f"scikit-learn on {n_total} scores (seed {seed}, {source})")
    c.close("roc_auc", as_float(got["roc_auc"]), float(auc))
    c.close("average_precision", as_float(got["average_precision"]), float(ap))
    # EER on sklearn's full ROC polyline (FAR = fpr, FRR = 1 - tpr).
    hit = ref.polyline_eer(fa / nI, fr / nG)
    c.close("eer.value", as_float(got["eer"]["value"]), hit[0] if hit else None)
    for op in got["operating_points"]:
        a = op["target"]
        # roc rule: the smallest threshold with k <= a * nI is the last roc_curve point with fa <= K.
        K = math.floor(a * nI)
        j = int(np.nonzero(fa <= K)[0][-1])
        t = float(thr[j])
        c.exact(f"{op['name']}.threshold", as_float(op["threshold"]), t)
        c.exact(f"{op['name']}.false_accepts", op["false_accepts"], int(fa[j]))
        c.exact(f"{op['name']}.false_rejects", op["false_rejects"], int(fr[j]))
        c.close(f"{op['name']}.frr", as_float(op["frr"]), float(1 - tpr[j]))
    return c, {"n": n_total, "source": source, "cli_seconds": t_cli}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("ALAVERIFY_BIN", ".build/release/alaverify"))
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sklearn-n", type=int, default=10_000_000)
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--out", default="bench/out/agreement.json")
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)

    rng = np.random.default_rng(args.seed)
    failures = []
    with tempfile.TemporaryDirectory(prefix="alaverify-agreement-") as workdir:
        for index in range(args.cases):
            c = compare_case(binary, workdir, index, args.seed, rng)
            if c.problems:
                failures.append(c)
                print(f"DISAGREE {c.label}:\n  " + "\n  ".join(c.problems))
        print(f"reference: {args.cases - len(failures)} passed, {len(failures)} failed (seed {args.seed})")
        sk = None
        if not args.skip_sklearn:
            c, sk = sklearn_check(binary, workdir, args.sklearn_n, args.seed)
            if c.problems:
                failures.append(c)
                print(f"DISAGREE {c.label}:\n  " + "\n  ".join(c.problems))
            print(f"scikit-learn on {args.sklearn_n} scores ({sk['source']}): "
                  f"{'agrees' if not c.problems else 'DISAGREES'}")

    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"seed": args.seed, "cases": args.cases, "tolerance": TOL,
                   "disagreements": [{"case": c.label, "problems": c.problems} for c in failures],
                   "sklearn": sk}, f, indent=2)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
