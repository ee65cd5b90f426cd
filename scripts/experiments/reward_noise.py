#!/usr/bin/env python3
"""Reward-noise measurement for RESULTS.md (validation split only).

Inputs (from run_results.sh, phase noise): OUT/noise-ala-1e-3-s1-scores/stepSSSS-cC.h5 = all pairs
of OUT/val-glyphs64.h5 (64 random glyphs of each of the 94 validation identities) embedded with
child C's checkpoint at step SSSS. For every checkpoint it recomputes the controller's reward
quantities -- the raw target frr@far=1e-3 and the band-averaged reward value (mean FRR at
FAR = a * 2^e, e in {-1, -0.5, 0, 0.5, 1}, the default --reward-band 2) -- on
  * 4 disjoint subsets of 16 glyphs per identity (what the controller sees: 16 glyphs x 94 ids),
  * an identity bootstrap (94 identities drawn with replacement, the same draws at every step),
and reports how often the sign of the step-to-step improvement (the paper's reward) changes.
usage: reward_noise.py OUT_DIR
"""
import glob
import json
import os
import re
import sys

import h5py
import numpy as np

OUT = sys.argv[1]
A = 1e-3
RATES = [A * 2.0 ** e for e in (-1, -0.5, 0, 0.5, 1)]
SUBSETS = 4
PER = 16
REPLICATES = 100
rng = np.random.default_rng(12345)

val = h5py.File(os.path.join(OUT, "val-glyphs64.h5"), "r")
ids = val["samples/identity"][:]
n = len(ids)
# Disjoint 16-glyph subsets per identity.
subset_of = np.full(n, -1)
for ident in np.unique(ids):
    members = rng.permutation(np.flatnonzero(ids == ident))
    for k in range(SUBSETS):
        subset_of[members[k * PER:(k + 1) * PER]] = k
# Pair (i, j), i < j, in the score file's row-major order.
I = np.repeat(np.arange(n, dtype=np.int32), n - 1 - np.arange(n))
starts = np.cumsum(np.concatenate([[0], n - 1 - np.arange(n)]))[:-1]
J = (np.arange(len(I), dtype=np.int64) - starts[I] + I + 1).astype(np.int32)
sub_pairs = [np.flatnonzero((subset_of[I] == k) & (subset_of[J] == k)) for k in range(SUBSETS)]
del I, J
uniq = np.unique(ids)
S = len(uniq)
boot_m = rng.multinomial(S, np.ones(S) / S, size=REPLICATES)  # multiplicities, same at every step


def frrs(gen, imp, wg=None, wi=None, presorted=False):
    """FRR at each of RATES, engine's roc rule: v = first impostor (descending) whose inclusion
    breaks FAR <= a; FRR = weight of genuine <= v. With presorted, gen is ascending, imp descending
    and the weights are in that order."""
    if not presorted:
        oi, og = np.argsort(-imp, kind="stable"), np.argsort(gen, kind="stable")
        imp, gen = imp[oi], gen[og]
        wi = None if wi is None else wi[oi]
        wg = None if wg is None else wg[og]
    ci = np.cumsum(np.ones(len(imp)) if wi is None else wi)
    cg = np.cumsum(np.ones(len(gen)) if wg is None else wg)
    out = []
    for a in RATES:
        j = np.searchsorted(ci, a * ci[-1], side="right")  # first index with cum > a W
        if j >= len(imp):
            out.append(0.0)
            continue
        k = np.searchsorted(gen, imp[j], side="right")
        out.append(cg[k - 1] / cg[-1] if k > 0 else 0.0)
    return np.array(out)


def quantities(fr):  # raw target, band-averaged reward value
    return fr[2], fr.mean()


files = sorted(f for f in glob.glob(os.path.join(OUT, "noise-ala-1e-3-s1-scores", "step*-c*.h5")) if os.path.getsize(f) > 0)
table = {}  # (child, step) -> dict
for f in files:
    m = re.search(r"step(\d+)-c(\d+)\.h5$", f)
    step, child = int(m.group(1)), int(m.group(2))
    with h5py.File(f, "r") as h:
        score = h["scores/score"][:]
        label = h["scores/label"][:].astype(bool)
        left = h["scores/left_identity"][:]
        right = h["scores/right_identity"][:]
    rec = {}
    rec["full"] = quantities(frrs(score[label], score[~label]))
    rec["sub"] = []
    for k in range(SUBSETS):
        p = sub_pairs[k]
        lab = label[p]
        rec["sub"].append(quantities(frrs(score[p][lab], score[p][~lab])))
    # Identity bootstrap on subset 0.
    p = sub_pairs[0]
    lab = label[p]
    sc, l, r = score[p], np.searchsorted(uniq, left[p]), np.searchsorted(uniq, right[p])
    g, gi = sc[lab], l[lab]
    im, il, ir = sc[~lab], l[~lab], r[~lab]
    og, oi = np.argsort(g, kind="stable"), np.argsort(-im, kind="stable")
    g, gi, im, il, ir = g[og], gi[og], im[oi], il[oi], ir[oi]
    boots = []
    for b in range(REPLICATES):
        mm = boot_m[b].astype(np.float64)
        boots.append(quantities(frrs(g, im, mm[gi], mm[il] * mm[ir], presorted=True)))
    rec["boot"] = boots
    table[(child, step)] = rec

print("# Reward noise: noise-ala-1e-3-s1 (= ala-1e-3-s1 re-run with a checkpoint every controller step)")
print(f"checkpoint files scored: {len(files)}; validation file: {n} glyphs of {S} identities; "
      f"{SUBSETS} disjoint subsets of {PER} glyphs/identity; {REPLICATES} identity-bootstrap replicates")
results = {}
for qi, qname in enumerate(["raw target frr@far=1e-3", "band-averaged reward value (band 2)"]):
    flips_sub, flips_pair, flips_boot, agree_full, deltas, sd_sub, sd_boot, values_sub_sd = [], [], [], [], [], [], [], []
    for child in sorted({c for c, _ in table}):
        steps = sorted(s for c, s in table if c == child)
        for s0, s1 in zip(steps, steps[1:]):
            a, b = table[(child, s0)], table[(child, s1)]
            d_sub = np.array([a["sub"][k][qi] - b["sub"][k][qi] for k in range(SUBSETS)])  # improvement
            d_boot = np.array([a["boot"][r][qi] - b["boot"][r][qi] for r in range(REPLICATES)])
            d_full = a["full"][qi] - b["full"][qi]
            sg = np.sign(d_sub)
            flips_sub.append(float(len(set(sg)) > 1))
            flips_pair.append(np.mean([sg[x] != sg[y] for x in range(SUBSETS) for y in range(x + 1, SUBSETS)]))
            flips_boot.append(np.mean(np.sign(d_boot) != sg[0]))
            agree_full.append(np.mean(sg == np.sign(d_full)))
            deltas.append(d_full)
            sd_sub.append(d_sub.std(ddof=1))
            sd_boot.append(d_boot.std(ddof=1))
            values_sub_sd.append(np.std([a["sub"][k][qi] for k in range(SUBSETS)], ddof=1))
    deltas = np.array(deltas)
    r = dict(
        transitions=len(deltas),
        mean_abs_delta_64=float(np.mean(np.abs(deltas))),
        sd_delta_across_glyph_subsets=float(np.mean(sd_sub)),
        sd_delta_identity_bootstrap=float(np.mean(sd_boot)),
        sd_value_across_glyph_subsets=float(np.mean(values_sub_sd)),
        p_sign_disagrees_between_two_subsets=float(np.mean(flips_pair)),
        p_any_of_4_subsets_disagree=float(np.mean(flips_sub)),
        p_sign_flips_under_identity_bootstrap=float(np.mean(flips_boot)),
        p_16glyph_sign_matches_64glyph_sign=float(np.mean(agree_full)),
    )
    results[qname] = r
    print(f"\n## {qname}")
    for k, v in r.items():
        print(f"{k:42s} {v:.4f}" if isinstance(v, float) else f"{k:42s} {v}")

# Late transitions only (second half of training), where improvements are small.
print("\n## second half of training only (steps >= 400)")
for qi, qname in enumerate(["raw target", "band reward"]):
    fp, fb = [], []
    for child in sorted({c for c, _ in table}):
        steps = sorted(s for c, s in table if c == child and s >= 400)
        for s0, s1 in zip(steps, steps[1:]):
            a, b = table[(child, s0)], table[(child, s1)]
            sg = np.sign([a["sub"][k][qi] - b["sub"][k][qi] for k in range(SUBSETS)])
            fp.append(np.mean([sg[x] != sg[y] for x in range(SUBSETS) for y in range(x + 1, SUBSETS)]))
            fb.append(np.mean([np.sign(a["boot"][rr][qi] - b["boot"][rr][qi]) != sg[0] for rr in range(REPLICATES)]))
    if not fp:
        continue
    print(f"{qname}: P(two subsets disagree) {np.mean(fp):.3f}, P(flip under identity bootstrap) {np.mean(fb):.3f} over {len(fp)} transitions")

# Per-step values for the record.
print("\n## per checkpoint: child, step, raw target on 64 glyphs, on the 4 subsets; band reward on 64 glyphs")
for (c, s) in sorted(table):
    t = table[(c, s)]
    print(c, s, f"{t['full'][0]:.4f}", " ".join(f"{x[0]:.4f}" for x in t["sub"]), f"{t['full'][1]:.4f}")
json.dump(results, open(os.path.join(OUT, "reward-noise.json"), "w"), indent=1)
