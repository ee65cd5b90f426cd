#!/usr/bin/env python3
"""ALA vs fixed at the last training step (no checkpoint selection): test FRR of both children of
every main run on single glyphs. usage: final_step.py OUT_DIR"""
import json
import os
import sys

import numpy as np

OUT = sys.argv[1]
KEY = {"1e-2": "frr@far=0.01", "1e-3": "frr@far=1e-3"}


def frr(path, t):
    d = json.load(open(path))["systems"][0]
    return next(o["frr"] for o in d["operating_points"] if o["name"] == KEY[t]), d["eer"]["value"]


print("| target | method | FRR at the target, step 800, per seed (child 0 / child 1) | mean | mean EER |")
print("|---|---|---|---|---|")
for t in ("1e-3", "1e-2"):
    for m in ("ala", "fixed"):
        vals, eers, cells = [], [], []
        for seed in (1, 2, 3):
            ps = [os.path.join(OUT, f"{m}-{t}-s{seed}", f"final-c{c}.json") for c in (0, 1)]
            if not all(os.path.exists(p) for p in ps):
                continue
            r = [frr(p, t) for p in ps]
            vals += [x[0] for x in r]
            eers += [x[1] for x in r]
            cells.append(f"{r[0][0]:.3f} / {r[1][0]:.3f}")
        if vals:
            print(f"| frr@far={t} | {m} | {'; '.join(cells)} | {np.mean(vals):.3f} | {np.mean(eers):.3f} |")
