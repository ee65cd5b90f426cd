"""What a user runs today: h5py load + scikit-learn roc_curve, roc_auc_score,
average_precision_score and the FRR@FAR lookups (benchmark (a), timed as a whole process).

Usage: $PYTHON bench/sklearn_peer.py SCORES.h5 [--far 1e-4 --far 1e-3]
Prints the results as JSON so the run can be checked against alaverify's.
"""

import argparse
import json
import math

import h5py
import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

ap = argparse.ArgumentParser()
ap.add_argument("path")
ap.add_argument("--far", type=float, action="append")
args = ap.parse_args()

with h5py.File(args.path, "r") as f:
    score = f["scores/score"][...]
    label = f["scores/label"][...]

fpr, tpr, thr = roc_curve(label, score)
auc = roc_auc_score(label, score)
avg = average_precision_score(label, score)
out = {"roc_auc": float(auc), "average_precision": float(avg), "operating_points": []}
for a in args.far or [1e-4, 1e-3]:
    j = int(np.searchsorted(fpr, a, side="right")) - 1  # last ROC point with FAR <= a
    out["operating_points"].append({"far_target": a, "threshold": float(thr[j]), "far": float(fpr[j]),
                                    "frr": float(1 - tpr[j])})
fnr = 1 - tpr
k = int(np.nonzero(fpr - fnr >= 0)[0][0])
out["eer_approx"] = float(fpr[k]) if not math.isnan(fpr[k]) else None
print(json.dumps(out))
