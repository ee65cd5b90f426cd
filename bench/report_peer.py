#!/usr/bin/env python3
"""The Python peer of `alaverify report`: scikit-learn's DetCurveDisplay + matplotlib savefig.

usage: report_peer.py SCORES.csv|SCORES.h5 OUT.png
Reads the same CSV (label,score) or HDF5 alaverify-scores file (h5py), draws the DET curve of all scores the way a scikit-learn user
would, saves a PNG and prints one JSON line with the phase times in seconds.
"""
import json
import sys
import time

t0, c0 = time.perf_counter(), time.process_time()
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import DetCurveDisplay

t1 = time.perf_counter()
if sys.argv[1].endswith(".h5"):
    import h5py

    with h5py.File(sys.argv[1], "r") as f:
        y, s = f["/scores/label"][...].astype(np.int8), f["/scores/score"][...]
else:
    data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1, dtype=np.float64)
    y, s = data[:, 0].astype(np.int8), data[:, 1]
t2, c2 = time.perf_counter(), time.process_time()
fig, ax = plt.subplots(figsize=(7, 7), dpi=100)
DetCurveDisplay.from_predictions(y, s, ax=ax, name="scores", pos_label=1)
ax.set_title("DET curve (scikit-learn)")
fig.savefig(sys.argv[2])
t3, c3 = time.perf_counter(), time.process_time()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "det_and_savefig_s": t3 - t2, "total_s": t3 - t0,
                  "load_cpu_s": c2 - c0, "det_and_savefig_cpu_s": c3 - c2}))
