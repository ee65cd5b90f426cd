"""Exports fonts-glyphs32-dev.h5 to raw arrays both benchmarks read (no HDF5 in the Swift bench yet).

out/images.u8   N*32*32 uint8
out/labels.i32  N int32 identity per sample
"""
import sys, pathlib
import h5py, numpy as np

src = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/fonts-glyphs32-dev.h5"
out = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else pathlib.Path(__file__).parent.parent / "out")
out.mkdir(parents=True, exist_ok=True)
with h5py.File(src, "r") as f:
    images = f["samples/images"][...]
    labels = f["samples/identity"][...].astype(np.int32)
images.astype(np.uint8).tofile(out / "images.u8")
labels.tofile(out / "labels.i32")
print(f"{len(labels)} samples, {len(np.unique(labels))} identities -> {out}")
