"""Score files for the agreement check and the benchmarks (SPEC section 4 layouts)."""

from __future__ import annotations

import numpy as np


def write_csv(path, genuine, impostor):
    """`label,score` with labels 1/0; NaN as `nan`, infinities as `inf`/`-inf`; exact repr."""
    with open(path, "w") as f:
        f.write("label,score\n")
        for label, values in ((1, genuine), (0, impostor)):
            for x in np.asarray(values, dtype=np.float64).tolist():
                f.write(f"{label},{x!r}\n")  # repr: nan, inf, -inf, shortest round-trip text


def write_h5(path, genuine, impostor, dtype=np.float32, shuffle_seed=None):
    """HDF5 alaverify-scores v1: /scores/score [M], /scores/label uint8 [M], root attributes."""
    import h5py

    score = np.concatenate([np.asarray(genuine, dtype=dtype), np.asarray(impostor, dtype=dtype)])
    label = np.concatenate([np.ones(len(genuine), np.uint8), np.zeros(len(impostor), np.uint8)])
    if shuffle_seed is not None:
        order = np.random.default_rng(shuffle_seed).permutation(score.size)
        score, label = score[order], label[order]
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "alaverify-scores"
        f.attrs["format_version"] = 1
        g = f.create_group("scores")
        g.create_dataset("score", data=score)
        g.create_dataset("label", data=label)


def read_h5(path):
    """(score, label) arrays as stored."""
    import h5py

    with h5py.File(path, "r") as f:
        return f["scores/score"][...], f["scores/label"][...]


def verification_scores(seed, n_impostor, n_genuine, dtype=np.float32):
    """Continuous scores of a typical verifier: impostors N(0, 1), genuine N(3.5, 1)."""
    rng = np.random.default_rng(seed)
    impostor = rng.standard_normal(n_impostor, dtype=np.float32 if dtype == np.float32 else np.float64)
    genuine = rng.standard_normal(n_genuine, dtype=np.float32 if dtype == np.float32 else np.float64) + 3.5
    return genuine.astype(dtype), impostor.astype(dtype)
