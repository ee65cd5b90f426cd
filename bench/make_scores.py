#!/usr/bin/env python3
"""Synthetic score files for the report benchmark: Gaussian genuine/impostor scores, CSV.

usage: make_scores.py OUT.csv|OUT.h5 --genuine N --impostor M [--mean D] [--seed S]
Only the standard library and numpy; the same file feeds alaverify and the Python peer.
"""
import argparse

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--genuine", type=int, default=100_000)
ap.add_argument("--impostor", type=int, default=9_900_000)
ap.add_argument("--mean", type=float, default=3.5, help="genuine mean (impostor ~ N(0, 1))")
ap.add_argument("--sd", type=float, default=1.2, help="genuine standard deviation")
ap.add_argument("--seed", type=int, default=7)
a = ap.parse_args()
rng = np.random.default_rng(a.seed)
g = rng.normal(a.mean, a.sd, a.genuine).astype(np.float32)
i = rng.normal(0.0, 1.0, a.impostor).astype(np.float32)
labels = np.concatenate([np.ones(a.genuine, np.int8), np.zeros(a.impostor, np.int8)])
scores = np.concatenate([g, i])
order = rng.permutation(labels.size)
if a.out.endswith(".h5"):
    import h5py

    with h5py.File(a.out, "w") as f:
        f.attrs["format"] = "alaverify-scores"
        f.attrs["format_version"] = 1
        f.create_dataset("/scores/score", data=scores[order])
        f.create_dataset("/scores/label", data=labels[order].astype(np.uint8))
    raise SystemExit(0)
with open(a.out, "w") as f:
    f.write("label,score\n")
    chunk = 1_000_000
    for s in range(0, labels.size, chunk):
        idx = order[s:s + chunk]
        f.write("".join(f"{l},{x:.6f}\n" for l, x in zip(labels[idx].tolist(), scores[idx].tolist())))
