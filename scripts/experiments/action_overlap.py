#!/usr/bin/env python3
"""Does the reward steer ALA? Fraction of identical actions (same seed, same child, same controller
step) between the ALA runs for frr@far=1e-3 and for frr@far=1e-2, whose rewards differ.
usage: action_overlap.py OUT_DIR"""
import json
import os
import sys

import numpy as np

OUT = sys.argv[1]
print("| seed | child | identical actions, steps 1-4 | steps 5-16 | all | identical loss parameters at the end |")
print("|---|---|---|---|---|---|")
for seed in (1, 2, 3):
    a = [json.loads(l) for l in open(os.path.join(OUT, f"ala-1e-3-s{seed}", "history.jsonl"))]
    b = [json.loads(l) for l in open(os.path.join(OUT, f"ala-1e-2-s{seed}", "history.jsonl"))]
    for c in (0, 1):
        ra = [r for r in a if r["child"] == c]
        rb = [r for r in b if r["child"] == c]
        same = np.array([[x == y for x, y in zip(p["actions"], q["actions"])] for p, q in zip(ra, rb)])
        pa, pb = ra[-1]["loss_parameters"], rb[-1]["loss_parameters"]
        eq = sum(abs(pa[k] - pb[k]) < 1e-6 for k in pa)
        print(f"| {seed} | {c} | {same[:4].mean():.2f} | {same[4:].mean():.2f} | {same.mean():.2f} | {eq}/{len(pa)} |")
