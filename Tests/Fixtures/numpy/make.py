"""Writes the small NumPy score files the SampleData tests read (run with numpy >= 1.17):
python3 Tests/Fixtures/numpy/make.py  (from the repository root; the outputs are committed)."""
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
scores = np.array([0.9, 0.1, 0.75, -0.5, 0.3, 0.6])
labels = np.array([True, False, True, False, False, True])
left = np.array(["ann", "ann", "bob", "bob", "cy", "cy"])
right = np.array(["ann", "bob", "bob", "cy", "ann", "cy"])

# savez_compressed: deflated members, string identities.
np.savez_compressed(os.path.join(here, "compressed.npz"), scores=scores, labels=labels, left_id=left, right_id=right)
# A structured array with float32 scores and int64 identities.
rows = np.zeros(6, dtype=[("score", "<f4"), ("label", "u1"), ("left_id", "<i8"), ("right_id", "<i8")])
rows["score"], rows["label"] = scores, labels
rows["left_id"], rows["right_id"] = [0, 0, 1, 1, 2, 2], [0, 1, 1, 2, 0, 2]
np.save(os.path.join(here, "structured.npy"), rows)
# Two big-endian arrays saved one after the other.
with open(os.path.join(here, "two-arrays-big-endian.npy"), "wb") as f:
    np.save(f, scores.astype(">f8"))
    np.save(f, labels.astype(">i2"))
# Pickled object arrays: must be refused, never unpickled.
np.save(os.path.join(here, "object.npy"), np.array([0.5, "x"], dtype=object), allow_pickle=True)
np.savez(os.path.join(here, "object-ids.npz"), scores=scores, labels=labels,
         left_id=np.array(list(left), dtype=object), right_id=np.array(list(right), dtype=object))
