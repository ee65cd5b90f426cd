#!/usr/bin/env python3
"""FRR at FAR 1e-2, 1e-3, 1e-4 of training runs on their test split, and paired subject-bootstrap
intervals of each arm's difference from a reference arm, pooled over seeds (RESULTS.md).

usage: compare_runs.py REF=DIR[,DIR...] ARM=DIR[,DIR...] ... [--replicates R]

Every DIR holds a scores.h5 with comparison identities (alaverify train writes one for its test
split). Runs are paired by position: the k-th run of an arm with the k-th of the reference (the
same seed: the same test identities and samples). One bootstrap replicate draws the test
identities with replacement (a genuine pair weighs m_s, an impostor pair m_l * m_r, as the metric
engine's subject bootstrap) and applies the same draw to every run; each run's threshold is
re-derived in every replicate (FRR at the lowest observed threshold with weighted FAR <= a).
"""
import sys

import h5py
import numpy as np

TOP = 0.03  # impostors kept per run (the highest): enough for FAR <= 1e-2 in any replicate
RATES = [("1e-2", 1e-2), ("1e-3", 1e-3), ("1e-4", 1e-4)]


def prepare(path, uniq):
    with h5py.File(path, "r") as h:
        s = h["scores/score"][:]
        lab = h["scores/label"][:].astype(bool)
        left, right = h["scores/left_identity"][:], h["scores/right_identity"][:]
    # Pairing needs one test split: a run scored on other identities (e.g. a target whose defaults
    # size the split differently) cannot share the reference's bootstrap draws.
    if not np.array_equal(np.unique(np.concatenate([left, right])), uniq):
        sys.exit(f"compare_runs.py: {path}: its test identities differ from the first run's; "
                 "runs are paired only on the same test split")
    l = np.searchsorted(uniq, left)
    r = np.searchsorted(uniq, right)
    g, gi = s[lab], l[lab]
    o = np.argsort(g, kind="stable")
    imp, il, ir = s[~lab], l[~lab], r[~lab]
    k = max(1, int(TOP * len(imp)))
    top = np.argpartition(-imp, k)[:k]
    top = top[np.argsort(-imp[top], kind="stable")]
    n = len(uniq)
    counts = np.zeros((n, n))
    np.add.at(counts, (il, ir), 1)
    return dict(g=g[o], gi=gi[o], imp=imp[top], il=il[top], ir=ir[top], counts=counts)


def frr(run, a, m):
    total = m @ run["counts"] @ m
    cum = np.cumsum(m[run["il"]] * m[run["ir"]])
    j = np.searchsorted(cum, a * total, side="right")
    assert j < len(cum), "TOP too small"
    v = run["imp"][j]
    wg = m[run["gi"]]
    k = np.searchsorted(run["g"], v, side="right")
    return wg[:k].sum() / wg.sum()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    replicates = 1000
    if "--replicates" in sys.argv:
        replicates = int(sys.argv[sys.argv.index("--replicates") + 1])
        args = [a for a in args if a != str(replicates)]
    arms = []
    for a in args:
        name, dirs = a.split("=", 1)
        if [d for d in dirs.split(",") if d]:
            arms.append((name, [d for d in dirs.split(",") if d]))
    first = arms[0][1][0] + "/scores.h5"
    with h5py.File(first, "r") as h:
        uniq = np.unique(np.concatenate([h["scores/left_identity"][:], h["scores/right_identity"][:]]))
    runs = {name: [prepare(d + "/scores.h5", uniq) for d in dirs] for name, dirs in arms}
    ones = np.ones(len(uniq))
    print(f"test identities: {len(uniq)}; replicates: {replicates}\n")
    print("| arm | runs | " + " | ".join(f"FRR@{t} (mean; per run)" for t, _ in RATES) + " |")
    print("|---|---|" + "---|" * len(RATES))
    for name, _ in arms:
        cells = []
        for _, a in RATES:
            v = [frr(r, a, ones) for r in runs[name]]
            cells.append(f"{np.mean(v):.4f} ({', '.join(f'{x:.4f}' for x in v)})")
        print(f"| {name} | {len(runs[name])} | " + " | ".join(cells) + " |")
    ref, ref_runs = arms[0][0], runs[arms[0][0]]
    rng = np.random.default_rng(0)
    draws = [rng.multinomial(len(uniq), ones / len(uniq)).astype(float) for _ in range(replicates)]
    print(f"\npaired differences from {ref} (negative: lower FRR than {ref}), pooled over paired runs:\n")
    print("| arm | pairs | " + " | ".join(f"Δ FRR@{t} [95% CI]; relative" for t, _ in RATES) + " |")
    print("|---|---|" + "---|" * len(RATES))
    for name, _ in arms[1:]:
        pairs = list(zip(runs[name], ref_runs))
        cells = []
        for _, a in RATES:
            point = np.mean([frr(x, a, ones) - frr(y, a, ones) for x, y in pairs])
            base = np.mean([frr(y, a, ones) for _, y in pairs])
            diffs = np.array([np.mean([frr(x, a, m) - frr(y, a, m) for x, y in pairs]) for m in draws])
            lo, hi = np.percentile(diffs, [2.5, 97.5])
            cells.append(f"{point:+.4f} [{lo:+.4f}, {hi:+.4f}]; {100 * point / base:+.1f}%")
        print(f"| {name} | {len(pairs)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
