#!/usr/bin/env python3
"""Turns one child of an `alaverify-checkpoint` file into an `alaverify-model` file that
`alaverify score` accepts (same layout, see Sources/LossAlignment/Checkpoints.swift).
usage: checkpoint_to_model.py CHECKPOINT.h5 CHILD OUT_MODEL.h5"""
import shutil
import sys

import h5py

src, child, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
shutil.copy(src, out)
with h5py.File(out, "r+") as f:
    f.attrs["format"] = "alaverify-model"  # variable-length UTF-8, as the Swift writer
    for name in list(f.keys()):
        if name.startswith("child") and name != f"child{child}":
            del f[name]
    if child != 0:
        f.move(f"child{child}", "child0")
    f.attrs["children"] = f.attrs["children"].dtype.type(1)
    if "progress_json" in f:
        del f["progress_json"]
