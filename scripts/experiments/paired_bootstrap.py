#!/usr/bin/env python3
"""Paired subject bootstrap of ALA - fixed at each run's target on the test split, pooled over seeds.
All systems of a view are scored on the same glyphs, so one identity resample (93 test identities
drawn with replacement; a genuine pair weighs m_s, an impostor pair m_l * m_r, as the metric engine's
bootstrap) is applied to every system at once and the threshold is re-derived per system.
usage: paired_bootstrap.py OUT_DIR [REPLICATES]   -> prints a markdown table"""
import os
import sys

import h5py
import numpy as np

OUT = sys.argv[1]
R = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
TOP = 0.03  # impostors kept (top fraction); enough for FAR <= 1e-2 in any replicate here


def load(path):
    with h5py.File(path, "r") as h:
        s = h["scores/score"][:]
        lab = h["scores/label"][:].astype(bool)
        l = h["scores/left_identity"][:]
        r = h["scores/right_identity"][:]
    return s, lab, l, r


def prepare(path, uniq):
    s, lab, l, r = load(path)
    li, ri = np.searchsorted(uniq, l), np.searchsorted(uniq, r)
    g, gi = s[lab], li[lab]
    o = np.argsort(g, kind="stable")
    imp, il, ir = s[~lab], li[~lab], ri[~lab]
    k = int(TOP * len(imp))
    top = np.argpartition(-imp, k)[:k]
    top = top[np.argsort(-imp[top], kind="stable")]
    n = len(uniq)
    counts = np.zeros((n, n))
    np.add.at(counts, (il, ir), 1)
    return dict(g=g[o], gi=gi[o], imp=imp[top], il=il[top], ir=ir[top], counts=counts)


def frr(sys_, a, m):
    wI = m @ sys_["counts"] @ m
    ci = np.cumsum(m[sys_["il"]] * m[sys_["ir"]])
    j = np.searchsorted(ci, a * wI, side="right")
    assert j < len(ci), "TOP too small"
    v = sys_["imp"][j]
    wg = m[sys_["gi"]]
    k = np.searchsorted(sys_["g"], v, side="right")
    return wg[:k].sum() / wg.sum()


rng = np.random.default_rng(0)
print("| target | view | seeds | mean ALA − fixed (point) | paired 95% CI | P(ALA − fixed < 0) |")
print("|---|---|---|---|---|---|")
for t, a in [("1e-3", 1e-3), ("1e-2", 1e-2)]:
    for view, fname in [("glyphs", "test-glyphs.h5"), ("t4s", "test-t4s.h5")]:
        pairs = []
        for seed in (1, 2, 3):
            pa, pf = (os.path.join(OUT, f"{m}-{t}-s{seed}", fname) for m in ("ala", "fixed"))
            if os.path.exists(pa) and os.path.exists(pf):
                pairs.append((pa, pf))
        if not pairs:
            continue
        with h5py.File(pairs[0][0], "r") as h:
            uniq = np.unique(np.concatenate([h["scores/left_identity"][:], h["scores/right_identity"][:]]))
        systems = [(prepare(pa, uniq), prepare(pf, uniq)) for pa, pf in pairs]
        ones = np.ones(len(uniq))
        point = np.mean([frr(A, a, ones) - frr(F, a, ones) for A, F in systems])
        diffs = []
        for _ in range(R):
            m = rng.multinomial(len(uniq), ones / len(uniq)).astype(float)
            diffs.append(np.mean([frr(A, a, m) - frr(F, a, m) for A, F in systems]))
        diffs = np.array(diffs)
        lo, hi = np.percentile(diffs, [2.5, 97.5])
        print(f"| frr@far={t} | {view} | {len(pairs)} | {point:+.3f} | [{lo:+.3f}, {hi:+.3f}] | {np.mean(diffs < 0):.3f} |")
