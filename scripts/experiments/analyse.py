#!/usr/bin/env python3
"""Tables of RESULTS.md from the run directories of run_results.sh.
usage: analyse.py OUT_DIR  -> writes results/tables.md and results/summary.json (repo-relative)"""
import json
import math
import os
import sys
from collections import Counter

import numpy as np

OUT = sys.argv[1]
RES = "results"
os.makedirs(RES, exist_ok=True)
SEEDS = [1, 2, 3]
TARGETS = ["1e-3", "1e-2"]
lines = []


def p(s=""):
    lines.append(s)


def history(name):
    path = os.path.join(OUT, name, "history.jsonl")
    return [json.loads(l) for l in open(path)] if os.path.exists(path) else None


def metrics(name, kind):
    path = os.path.join(OUT, name, f"metrics-{kind}.json")
    if not os.path.exists(path):
        return None
    d = json.load(open(path))
    if "systems" not in d:
        return None
    s = d["systems"][0]
    out = {"eer": s["eer"]["value"], "auc": s["roc_auc"]}
    for op in s["operating_points"]:
        key = {"frr@far=0.01": "1e-2", "frr@far=1e-3": "1e-3", "frr@far=1e-4": "1e-4"}.get(op["name"], op["name"])
        out[key] = (op["frr"], op["ci95"][0], op["ci95"][1], op["estimable_by_subjects"])
    return out


def done(name):
    d = os.path.join(OUT, name)
    return os.path.exists(os.path.join(d, "DONE")) and not os.path.exists(os.path.join(d, "SKIPPED")) and \
        os.path.exists(os.path.join(d, "history.jsonl"))


def best_validation(h, child=None):
    rows = [r for r in h if child is None or r["child"] == child]
    r = min(rows, key=lambda r: (r["validation"]["value"], r["step"]))
    return r["validation"]["value"], r["step"], r["child"]


def fmt(x, ci=True):
    if x is None:
        return "–"
    v, lo, hi, est = x
    s = f"{v:.3f} [{lo:.3f}, {hi:.3f}]" if ci else f"{v:.3f}"
    return s + ("" if est else "†")


summary = {"runs": {}}
p("## Per-run test results")
p()
p("FRR at FAR 1e-2 / 1e-3 / 1e-4 with subject-bootstrap 95% CIs (1000 replicates over the 93 test identities), "
  "EER, ROC AUC. † = not estimable by identities (a x 4,278 impostor identity pairs < 3): reported, not interpretable. "
  "`val` = best validation value of the run's target (the step and child whose model.h5 was kept).")
VIEWS = [("glyphs", "single glyphs (62 per test identity)"),
         ("t4s", "templates of 4 glyphs from the same 62 glyphs per identity (15 templates per identity)"),
         ("t4", "templates of 4 glyphs from all test glyphs (`score --split test --templates 4`; identities weighted by their glyph count)")]
for kind, title in VIEWS:
    p()
    p(f"### {title}")
    p()
    p("| run | target | seed | val (step, child) | FRR@1e-2 | FRR@1e-3 | FRR@1e-4 | EER | AUC |")
    p("|---|---|---|---|---|---|---|---|---|")
    for t in TARGETS:
        for method in ["ala", "fixed"]:
            for seed in SEEDS:
                name = f"{method}-{t}-s{seed}"
                if not done(name):
                    continue
                h = history(name)
                v, st, ch = best_validation(h)
                m = metrics(name, kind)
                summary["runs"].setdefault(name, {})["val"] = v
                summary["runs"][name][kind] = m
                if m is None:
                    p(f"| {name} | frr@far={t} | {seed} | {v:.4f} ({st}, {ch}) | (not evaluated) | | | | |")
                    continue
                p(f"| {name} | frr@far={t} | {seed} | {v:.4f} ({st}, {ch}) | {fmt(m['1e-2'])} | {fmt(m['1e-3'])} | "
                  f"{fmt(m['1e-4'])} | {m['eer']:.3f} | {m['auc']:.3f} |")

p()
p("## Each run judged at its own target (test split): means over seeds and paired differences")
p()
p("| target | view | ALA per seed | fixed per seed | ALA mean | fixed mean | mean ALA − fixed (paired by seed) | seeds where ALA is lower |")
p("|---|---|---|---|---|---|---|---|")
for t in TARGETS:
    for kind in ["glyphs", "t4s", "t4"]:
        a, f = [], []
        for seed in SEEDS:
            ma, mf = metrics(f"ala-{t}-s{seed}", kind), metrics(f"fixed-{t}-s{seed}", kind)
            if ma and mf and done(f"ala-{t}-s{seed}") and done(f"fixed-{t}-s{seed}"):
                a.append(ma[t][0])
                f.append(mf[t][0])
        if not a:
            continue
        d = np.array(a) - np.array(f)
        p(f"| frr@far={t} | {kind} | {', '.join(f'{x:.3f}' for x in a)} | {', '.join(f'{x:.3f}' for x in f)} | "
          f"{np.mean(a):.3f} | {np.mean(f):.3f} | {d.mean():+.3f} | {(d < 0).sum()}/{len(d)} |")
        summary.setdefault("own_target", {})[f"{t}-{kind}"] = {"ala": a, "fixed": f}
p()
p("Validation (what both methods optimise and select on): best validation value of the target per run")
p()
p("| target | ALA per seed | fixed per seed | ALA mean | fixed mean |")
p("|---|---|---|---|---|")
for t in TARGETS:
    a = [best_validation(history(f"ala-{t}-s{s}"))[0] for s in SEEDS if done(f"ala-{t}-s{s}")]
    f = [best_validation(history(f"fixed-{t}-s{s}"))[0] for s in SEEDS if done(f"fixed-{t}-s{s}")]
    if a and f:
        p(f"| frr@far={t} | {', '.join(f'{x:.4f}' for x in a)} | {', '.join(f'{x:.4f}' for x in f)} | {np.mean(a):.4f} | {np.mean(f):.4f} |")

# Grid.
grid = [("0.5", "2", "fixed-1e-3-s1", 0)] + [(m, s, f"grid-1e-3-m{m}-a{s}", 0) for m in ["0.3", "0.7"] for s in ["2", "8"]]
rows = [(m, s, n, c) for m, s, n, c in grid if done(n)]
if len(rows) > 1:
    p()
    p("## Fixed-loss grid (target frr@far=1e-3, seed 1, one child each), chosen on validation")
    p()
    p("| impostor_margin | scale | run (child) | best validation FRR@1e-3 (step) | test FRR@1e-3 glyphs | test FRR@1e-3 templates |")
    p("|---|---|---|---|---|---|")
    best = None
    for m, s, n, c in rows:
        v, st, _ = best_validation(history(n), child=c)
        mg, mt = metrics(n, "glyphs"), metrics(n, "t4")
        tg = fmt(mg["1e-3"]) if mg and n.startswith("grid") else ("(2-child run, see above)" if n.startswith("fixed") else "–")
        tt = fmt(mt["1e-3"]) if mt and n.startswith("grid") else ("" if n.startswith("fixed") else "–")
        p(f"| {m} | {s} | {n} ({c}) | {v:.4f} ({st}) | {tg} | {tt} |")
        if best is None or v < best[0]:
            best = (v, n, m, s)
    p()
    p(f"Best on validation: impostor_margin {best[2]}, scale {best[3]} ({best[1]}, validation {best[0]:.4f}).")
    summary["grid_best"] = best
    for seeds in ([1, 2], [1, 2, 3]):
        ala = [(best_validation(history(f"ala-1e-3-s{s}"))[0], f"ala-1e-3-s{s}") for s in seeds if done(f"ala-1e-3-s{s}")]
        if len(ala) < len(seeds):
            continue
        va, na = min(ala)
        p(f"ALA picked on validation among seeds {seeds} ({2 * len(seeds)} child runs vs the grid's {len(rows)}): "
          f"{na}, validation {va:.4f}.")
        summary[f"ala_pick_{len(seeds)}"] = (va, na)
    p()
    p("Test, at the target (frr@far=1e-3), grid pick vs ALA pick:")
    p()
    p("| system | glyphs | 4-glyph templates (same glyphs) | 4-glyph templates (all test glyphs) |")
    p("|---|---|---|---|")
    picks = [("grid best: " + best[1], best[1])] + [(f"ALA pick ({k[-1]} seeds): " + v[1], v[1]) for k, v in summary.items() if k.startswith("ala_pick")]
    for label, n in picks:
        ms = [metrics(n, k) for k in ["glyphs", "t4s", "t4"]]
        p(f"| {label} | " + " | ".join(fmt(m["1e-3"]) if m else "–" for m in ms) + " |")

# ALA dynamics.
p()
p("## ALA controller dynamics (history.jsonl)")
p()
p("| run | child | controller steps | rewards +1/0/−1 | mean reward | entropy first→last (max ln3=1.099) | actions lower/keep/raise | scale | g_margin | i_margin | balance | mean g_weight | mean i_weight |")
p("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for t in TARGETS:
    for seed in SEEDS:
        name = f"ala-{t}-s{seed}"
        if not done(name):
            continue
        h = history(name)
        for c in sorted({r["child"] for r in h}):
            rows = [r for r in h if r["child"] == c]
            rw = [r["reward"] for r in rows if r.get("reward") is not None]
            cnt = Counter(np.sign(rw))
            acts = Counter(a for r in rows for a in r["actions"])
            lp = rows[-1]["loss_parameters"]
            gw = np.mean([v for k, v in lp.items() if k.startswith("genuine_weight")])
            iw = np.mean([v for k, v in lp.items() if k.startswith("impostor_weight")])
            p(f"| {name} | {c} | {len(rows)} | {cnt[1.0]}/{cnt[0.0]}/{cnt[-1.0]} | {np.mean(rw):+.2f} | "
              f"{rows[0]['policy_entropy']:.3f}→{rows[-1]['policy_entropy']:.3f} | {acts[-1]}/{acts[0]}/{acts[1]} | "
              f"{lp['scale']:.2f} | {lp['genuine_margin']:.2f} | {lp['impostor_margin']:.2f} | {lp['balance']:.2f} | {gw:.2f} | {iw:.2f} |")

# Reward noise from the histories.
p()
p("## Reward noise from the histories (all runs, per child)")
p()
p("Step-to-step changes of the raw validation target (`validation.value`) and of the band-averaged reward value "
  "(`reward_value`, FAR band [a/2, 2a]). For a slowly improving metric observed with independent measurement noise "
  "of variance s², successive differences have lag-1 covariance −s²; so s ≈ sqrt(−cov1) estimates the noise. "
  "Child-to-child: the two children of a fixed run are the same recipe with different seeds.")
p()
p("| target | quantity | SD of step-to-step change | mean abs. change | lag-1 autocorr. of changes | noise SD est. sqrt(−cov1) | mean abs(child0 − child1) (fixed runs, same step) |")
p("|---|---|---|---|---|---|---|")
for t in TARGETS:
    for q in ["value", "reward_value"]:
        deltas, pairs, cc = [], [], []
        for method in ["ala", "fixed"]:
            for seed in SEEDS:
                name = f"{method}-{t}-s{seed}"
                if not done(name):
                    continue
                h = history(name)
                for c in sorted({r["child"] for r in h}):
                    v = np.array([r["validation"][q] for r in h if r["child"] == c])
                    d = np.diff(v)
                    d = d[len(d) // 4:]  # skip the first quarter (fast initial improvement)
                    deltas.append(d)
                    pairs.append(np.stack([d[:-1], d[1:]]))
                if method == "fixed":
                    v0 = np.array([r["validation"][q] for r in h if r["child"] == 0])
                    v1 = np.array([r["validation"][q] for r in h if r["child"] == 1])
                    cc.append(np.abs(v0 - v1)[len(v0) // 4:])
        if not deltas:
            continue
        D = np.concatenate(deltas)
        P = np.concatenate(pairs, axis=1)
        cov1 = np.mean((P[0] - D.mean()) * (P[1] - D.mean()))
        ac = cov1 / D.var()
        noise = math.sqrt(-cov1) if cov1 < 0 else float("nan")
        p(f"| frr@far={t} | {q} | {D.std():.4f} | {np.abs(D).mean():.4f} | {ac:+.2f} | {noise:.4f} | "
          f"{np.concatenate(cc).mean() if cc else float('nan'):.4f} |")
        summary.setdefault("history_noise", {})[f"{t}-{q}"] = dict(sd=float(D.std()), lag1=float(ac), noise=noise)

open(os.path.join(RES, "tables.md"), "w").write("\n".join(lines) + "\n")
json.dump(summary, open(os.path.join(RES, "summary.json"), "w"), indent=1, default=str)
print("\n".join(lines))
