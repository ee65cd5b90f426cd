"""Agreement of alaverify's dev/eval thresholds and calibration metrics with bob.measure 6.1.1.

Run with the Python of a venv that has bob.measure 6.1.1 (it pins numpy 1.26) and scikit-learn:
  bench/run_bob_agreement.sh [BIN]           (creates ~/.cache/alaverify-bob-venv)
  $PYTHON bench/bob_agreement.py --bin .build/release/alaverify [--cases 100] [--seed 1]

Per random case (continuous float64 scores, written so that they round-trip, no NaN):
  threshold on dev   bob.measure.far_threshold(dev, a)   == alaverify --threshold-rule impostor frr@far=a
                     bob.measure.frr_threshold(dev, b)   vs alaverify far@frr=b (reported, see notes)
  eval at that t     bob.measure.farfrr(eval, t)         == alaverify fixed_thresholds far, frr
  bob's EER t        bob.measure.eer_threshold(dev)      -> alaverify --threshold t: farfrr equal
  Cllr               bob.measure.calibration.cllr(eval)  vs alaverify --cllr, |diff| <= 1e-9
  minCllr            bob.measure.calibration.min_cllr's code (see notes) vs alaverify, |diff| <= 1e-9
  calibration        scikit-learn LogisticRegression(penalty=None, class_weight="balanced") vs
                     alaverify --calibrate: scale, offset to 1e-6 relative, calibrated Cllr to 1e-9
and on the fixture's dev/eval files the counts `bob measure metrics -e` prints.
Exit 1 on any disagreement beyond the stated tolerance, with the seed and case to reproduce it.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import bob.measure
from bob.measure.calibration import cllr as bob_cllr
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

TOL = 1e-9
warnings.filterwarnings("ignore", category=FutureWarning)  # scikit-learn's penalty=None spelling


def bob_min_cllr(negatives, positives):
    """bob.measure 6.1.1's calibration.min_cllr, line for line, mended where 6.1.1 cannot run:
    it calls numpy.float (removed in numpy 1.24) and then raises NotImplementedError("No pavx
    implementation"); the pool-adjacent-violators step it names is scikit-learn's isotonic
    regression of the 0/1 labels in score order (ties: negative first, as bob orders them)."""
    neg, pos = sorted(negatives), sorted(positives)
    N, P = len(neg), len(pos)
    ideal = np.zeros(N + P)
    neg_idx, pos_idx = [0] * N, [0] * P
    n = p = 0
    for i in range(N + P):
        if p < P and (n == N or neg[n] > pos[p]):
            pos_idx[p] = i
            p += 1
            ideal[i] = 1
        else:
            neg_idx[n] = i
            n += 1
    ghat = IsotonicRegression().fit_transform(np.arange(N + P, dtype=float), ideal)
    with np.errstate(divide="ignore"):
        llrs = np.log(ghat) - np.log(1.0 - ghat) - math.log(P / N)
    return bob_cllr(llrs[neg_idx], llrs[pos_idx])


def write_csv(path, genuine, impostor):
    with open(path, "w") as f:
        f.write("label,score\n")
        for s in genuine:
            f.write(f"1,{s!r}\n")
        for s in impostor:
            f.write(f"0,{s!r}\n")


def alaverify(binary, args):
    p = subprocess.run([binary, "metrics", *args, "--json", "-"], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"alaverify metrics {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def as_float(v):
    return math.inf if v == "inf" else -math.inf if v == "-inf" else v


class Report:
    def __init__(self):
        self.problems, self.max_diff, self.checked, self.notes = [], {}, {}, {}

    def exact(self, what, got, want, label):
        self.checked[what] = self.checked.get(what, 0) + 1
        if got != want:
            self.problems.append(f"{label}: {what}: alaverify {got!r}, bob {want!r}")

    def close(self, what, got, want, label, tol=TOL, relative=False):
        self.checked[what] = self.checked.get(what, 0) + 1
        d = abs(got - want) / (abs(want) if relative and want != 0 else 1)
        self.max_diff[what] = max(self.max_diff.get(what, 0.0), d)
        if not d <= tol:
            self.problems.append(f"{label}: {what}: alaverify {got!r}, reference {want!r} (diff {d:.3g})")

    def note(self, what, label):
        self.notes.setdefault(what, []).append(label)


def one_case(rng, binary, tmp, report, label):
    nG, nI = int(rng.integers(5, 400)), int(rng.integers(20, 4000))
    shift = rng.uniform(0.5, 3)
    scale = rng.uniform(0.2, 5)
    dev_g, dev_i = scale * (rng.normal(shift, 1, nG)), scale * rng.normal(0, 1, nI)
    ev_g, ev_i = scale * (rng.normal(shift, 1.2, nG)), scale * rng.normal(0.1, 1, nI)
    dev, ev = os.path.join(tmp, "dev.csv"), os.path.join(tmp, "eval.csv")
    write_csv(dev, dev_g, dev_i)
    write_csv(ev, ev_g, ev_i)
    a = float(rng.choice([1e-3, 1e-2, 0.05, 0.1, 0.3]))
    b = float(rng.choice([0.01, 0.05, 0.2, 0.5]))
    t_eer = float(bob.measure.eer_threshold(dev_i, dev_g))
    doc = alaverify(binary, ["--dev", dev, ev, "--far", repr(a), "--frr", repr(b), "--threshold-rule", "impostor",
                             "--threshold", repr(t_eer), "--cllr", "--calibrate", dev, "--ci", "none"])
    system = doc["systems"][0]
    fixed = {p["name"]: p for p in system["fixed_thresholds"]}
    # frr@far=a: bob's far_threshold is SPEC's impostor rule.
    p = fixed[f"frr@far={format_rate(a)}"]
    t_bob = float(bob.measure.far_threshold(dev_i, dev_g, a))
    if as_float(p["threshold"]) == math.inf and a * nI < 1:
        # No impostor score may be accepted: SPEC reports +inf (reject all, an observed-or-inf
        # threshold), bob the next double above the top impostor score (FAR 0 as well).
        report.exact("far_threshold (dev), a * nI < 1: bob = nextafter(top impostor)", t_bob,
                     float(np.nextafter(dev_i.max(), np.inf)), label)
        report.note("far_threshold: +inf vs nextafter(top impostor) when a * nI < 1", f"{label} a={a} nI={nI}")
    else:
        report.exact("far_threshold (dev)", as_float(p["threshold"]), t_bob, f"{label} a={a}")
    far, frr = bob.measure.farfrr(ev_i, ev_g, as_float(p["threshold"]))
    report.exact("farfrr at the dev threshold (eval FAR)", p["far"], far, label)
    report.exact("farfrr at the dev threshold (eval FRR)", p["frr"], frr, label)
    # far@frr=b against bob's frr_threshold: recorded, not required equal (see BENCHMARKS.md).
    q = fixed[f"far@frr={format_rate(b)}"]
    t_frr = float(bob.measure.frr_threshold(dev_i, dev_g, b))
    if as_float(q["threshold"]) == t_frr:
        report.note("frr_threshold equal", label)
    else:
        _, frr_bob = bob.measure.farfrr(dev_i, dev_g, t_frr)
        report.note("frr_threshold differs", f"{label} b={b}: alaverify {q['threshold']!r} (dev FRR {q['chosen_on']['frr']}), "
                    f"bob {t_frr!r} (dev FRR {frr_bob})")
    far, frr = bob.measure.farfrr(ev_i, ev_g, as_float(q["threshold"]))
    report.exact("farfrr at the dev threshold (eval FAR)", q["far"], far, label)
    report.exact("farfrr at the dev threshold (eval FRR)", q["frr"], frr, label)
    # bob's EER threshold given as a number: the same counts.
    g = [p for p in system["fixed_thresholds"] if p["source"]["kind"] == "given"][0]
    far, frr = bob.measure.farfrr(ev_i, ev_g, t_eer)
    report.exact("farfrr at bob's eer_threshold", (g["far"], g["frr"]), (far, frr), label)
    ours_eer = fixed["eer"]["threshold"]
    if ours_eer == t_eer:
        report.note("eer_threshold equal", label)
    else:
        # bob returns a value between two scores, alaverify an observed score: same dev counts?
        same = bob.measure.farfrr(dev_i, dev_g, ours_eer) == bob.measure.farfrr(dev_i, dev_g, t_eer)
        below = dev_i[dev_i < ours_eer].max(initial=-np.inf), dev_g[dev_g < ours_eer].max(initial=-np.inf)
        kind = "same dev FAR and FRR" if same else "other dev FAR and FRR"
        report.note(f"eer_threshold differs, {kind}", f"{label}: alaverify {ours_eer!r}, bob {t_eer!r}, "
                    f"the next lower dev score {max(below)!r}")
    # Calibration metrics.
    c = system["calibration"]
    report.close("cllr", c["cllr"], bob_cllr(ev_i, ev_g), label)
    report.close("min_cllr", c["min_cllr"], bob_min_cllr(ev_i, ev_g), label)
    lr = LogisticRegression(penalty=None, class_weight="balanced", tol=1e-12, max_iter=10000)
    x = np.concatenate([dev_g, dev_i]).reshape(-1, 1)
    y = np.concatenate([np.ones(nG), np.zeros(nI)])
    lr.fit(x, y)
    report.close("calibration scale (relative)", c["calibrated"]["scale"], lr.coef_[0][0], label, tol=1e-6, relative=True)
    report.close("calibration offset (relative)", c["calibrated"]["offset"], lr.intercept_[0], label, tol=1e-6, relative=True)
    # Which map fits better: the objective both minimise (mean log-loss per class, nats).
    def objective(a, b0):
        return np.logaddexp(0, -(a * dev_g + b0)).mean() + np.logaddexp(0, a * dev_i + b0).mean()
    ours_obj = objective(c["calibrated"]["scale"], c["calibrated"]["offset"])
    theirs_obj = objective(lr.coef_[0][0], lr.intercept_[0])
    report.close("calibration objective: alaverify above scikit-learn by", max(ours_obj - theirs_obj, 0.0), 0.0, label, tol=1e-12)
    report.max_diff["calibration objective, scikit-learn above alaverify by"] = max(
        report.max_diff.get("calibration objective, scikit-learn above alaverify by", 0.0), theirs_obj - ours_obj)
    ours = c["calibrated"]
    report.close("calibrated cllr (same map)", ours["cllr"],
                 bob_cllr(ours["scale"] * ev_i + ours["offset"], ours["scale"] * ev_g + ours["offset"]), label)


def format_rate(x):
    """alaverify's spelling of a rate: 1e-3 for powers of ten below 0.01, else Python's repr."""
    if 0 < x < 0.01:
        e = round(-math.log10(x))
        if x == float(f"1e-{e}"):
            return f"1e-{e}"
    return repr(x)


def fixture(binary, report):
    """`bob measure metrics -e` on the fixture's dev/eval files against alaverify's counts."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    files = {k: os.path.join(root, f"fixtures/demo-pixels8-{k}.csv") for k in ("dev", "eval")}
    bob_bin = os.path.join(os.path.dirname(sys.executable), "bob")
    with tempfile.TemporaryDirectory() as tmp:
        two = {}
        for k, path in files.items():
            rows = [line.split(",") for line in open(path).read().splitlines()[1:]]
            two[k] = os.path.join(tmp, f"{k}.txt")
            with open(two[k], "w") as f:
                f.writelines(f"{'1' if r[0] == '1' else '-1'} {r[1]}\n" for r in rows)
        for criterion, args in (("eer", []), ("far", ["--fpr-value", "0.05"])):
            out = subprocess.run([bob_bin, "measure", "metrics", "-e", "-c", criterion, *args, two["dev"], two["eval"]],
                                 capture_output=True, text=True, check=True).stdout
            counts = re.findall(r"\((\d+)/(\d+)\)", out)  # dev FPR, eval FPR, dev FNR, eval FNR
            doc = alaverify(binary, ["--dev", files["dev"], files["eval"], "--far", "0.05", "--threshold-rule", "impostor", "--ci", "none"])
            point = {p["name"]: p for p in doc["systems"][0]["fixed_thresholds"]}["eer" if criterion == "eer" else "frr@far=0.05"]
            ours = [(point["chosen_on"]["false_accepts"], point["chosen_on"]["impostor"]), (point["false_accepts"], point["impostor"]),
                    (point["chosen_on"]["false_rejects"], point["chosen_on"]["genuine"]), (point["false_rejects"], point["genuine"])]
            report.exact(f"fixture: bob measure metrics -e -c {criterion} counts", ours, [(int(a), int(b)) for a, b in counts], "fixture")
            print(f"fixture, criterion {criterion}: bob {counts}, alaverify {ours}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=".build/release/alaverify")
    ap.add_argument("--cases", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="bench/out/bob_agreement.json")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    report = Report()
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.cases):
            one_case(rng, args.bin, tmp, report, f"seed {args.seed} case {k}")
    fixture(args.bin, report)
    summary = {
        "bob.measure": "6.1.1", "numpy": np.__version__, "cases": args.cases, "seed": args.seed,
        "checks": report.checked, "max_abs_or_relative_diff": report.max_diff,
        "notes": {k: {"count": len(v), "examples": v[:3]} for k, v in report.notes.items()},
        "problems": report.problems[:50],
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary, indent=1))
    sys.exit(1 if report.problems else 0)


if __name__ == "__main__":
    main()
