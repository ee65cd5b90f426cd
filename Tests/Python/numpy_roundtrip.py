"""NumPy's side of the NumPy round trip (EndToEndTests/NumPyRoundTripTests).

usage: numpy_roundtrip.py write DIR
    Writes one seeded score set (scores exactly representable in float32, 40 identities) as every
    NumPy layout alaverify reads - savez.npz (float64, bool labels, int64 ids), compressed.npz
    (savez_compressed: float32, uint8 labels, string ids), structured.npy, arrays.npy (four
    arrays saved one after another) - plus the same rows as reference.csv, and bad files:
    object.npy (pickled), no-labels.npz, int-scores.npy, matrix.npy, float-labels.npz.
usage: numpy_roundtrip.py check SCORES.npz OUT.npz
    Loads a score file written by `alaverify score --out F.npz` with numpy.load (no pickle),
    checks its dtypes and that label == (left_id == right_id), writes it back with
    savez_compressed and prints one JSON line describing it."""
import json
import sys

import numpy as np


def write(folder):
    rng = np.random.default_rng(20261207)
    n = 3000
    left = rng.integers(0, 40, n)
    right = np.where(rng.random(n) < 0.3, left, rng.integers(0, 40, n))
    labels = left == right
    scores = (rng.normal(0, 1, n) + 1.5 * labels).astype(np.float32).astype(np.float64)
    scores[5] = np.nan
    scores[6] = np.inf
    np.savez(f"{folder}/savez.npz", scores=scores, labels=labels, left_id=left.astype(np.int64), right_id=right.astype(np.int64))
    names = np.array([f"s{k}" for k in range(40)])
    np.savez_compressed(f"{folder}/compressed.npz", scores=scores.astype(np.float32), labels=labels.astype(np.uint8),
                        left_id=names[left], right_id=names[right])
    rows = np.zeros(n, dtype=[("left_id", "<i4"), ("score", "<f8"), ("right_id", "<i4"), ("label", "?")])
    rows["score"], rows["label"], rows["left_id"], rows["right_id"] = scores, labels, left, right
    np.save(f"{folder}/structured.npy", rows)
    with open(f"{folder}/arrays.npy", "wb") as f:
        for a in (scores, labels.astype(np.int8), left.astype(np.int32), right.astype(np.int32)):
            np.save(f, a)
    with open(f"{folder}/reference.csv", "w") as f:
        f.write("label,score,left_id,right_id\n")
        for s, l, a, b in zip(scores, labels, left, right):
            f.write(f"{int(l)},{repr(float(s))},s{a},s{b}\n")
    np.save(f"{folder}/object.npy", np.array([{"score": 1}, None], dtype=object), allow_pickle=True)
    np.savez(f"{folder}/no-labels.npz", scores=scores, label=labels)
    with open(f"{folder}/int-scores.npy", "wb") as f:
        np.save(f, np.arange(n))
        np.save(f, labels)
    with open(f"{folder}/matrix.npy", "wb") as f:
        np.save(f, np.stack([scores, labels]))
        np.save(f, labels)
    np.savez(f"{folder}/float-labels.npz", scores=scores, labels=labels.astype(np.float64))


def check(path, out):
    z = np.load(path, allow_pickle=False)
    scores, labels, left, right = (z[k] for k in ("scores", "labels", "left_id", "right_id"))
    assert scores.dtype == np.float32 and labels.dtype == np.uint8, (scores.dtype, labels.dtype)
    assert left.dtype == np.int32 and right.dtype == np.int32
    assert scores.shape == labels.shape == left.shape == right.shape and scores.ndim == 1
    assert np.array_equal(labels == 1, left == right) and set(np.unique(labels)) <= {0, 1}
    np.savez_compressed(out, scores=scores, labels=labels, left_id=left, right_id=right)
    print(json.dumps({"files": sorted(z.files), "count": int(scores.size), "genuine": int(labels.sum()),
                      "finite": bool(np.isfinite(scores).all()), "max_abs": float(np.abs(scores).max())}))


if __name__ == "__main__":
    write(sys.argv[2]) if sys.argv[1] == "write" else check(sys.argv[2], sys.argv[3])
