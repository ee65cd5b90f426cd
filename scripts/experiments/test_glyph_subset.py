#!/usr/bin/env python3
"""Writes the single-glyph test evaluation file of RESULTS.md: the identities of the test part of
`alaverify train --split TRAIN,VAL,TEST` (split seed 7, the CLI's default; the same Fisher-Yates
shuffle with SplitMix64 as Sources/SampleData/Splits.swift), with a seeded random PER_ID glyphs of
each identity (drawn across the identity's faces). All 93 test identities stay; only the glyphs
per identity are capped, because all pairs of the full test split (22,444 glyphs, 251M pairs) need
6+ GB of RAM and minutes per evaluation. Identity indices and the identity table are kept, so the
scores carry the original identity numbers.

usage: test_glyph_subset.py DATA.h5 OUT.h5 [--split 0.5,0.25,0.25] [--per-identity 62] [--seed 0]
       [--part test|validation|train]  (validation: used only by the reward-noise probe)
"""
import argparse
import h5py
import numpy as np

M = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & M

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        return z ^ (z >> 31)

    def below(self, bound):  # Lemire with rejection, as SeededGenerator.below
        m = self.next() * bound
        if (m & M) < bound:
            threshold = ((-bound) & M) % bound
            while (m & M) < threshold:
                m = self.next() * bound
        return m >> 64


def swift_round(x):  # Swift's .rounded(): half away from zero
    return int(np.floor(x + 0.5))


def split_identities(k, fractions, seed):
    order = list(range(k))
    g = SplitMix64(seed)
    for i in range(k - 1, 0, -1):
        j = g.below(i + 1)
        order[i], order[j] = order[j], order[i]
    n_train = min(k, swift_round(fractions[0] * k))
    n_val = min(k - n_train, swift_round(fractions[1] * k))
    return order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--split", default="0.5,0.25,0.25")
    ap.add_argument("--split-seed", type=int, default=7)
    ap.add_argument("--per-identity", type=int, default=62)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--part", default="test", choices=["train", "validation", "test"])
    a = ap.parse_args()
    fractions = [float(x) for x in a.split.split(",")]
    src = h5py.File(a.data, "r")
    identities = src["samples/identity"][:]
    k = src["identities/name"].shape[0]
    parts = dict(zip(["train", "validation", "test"], split_identities(k, fractions, a.split_seed)))
    test = parts[a.part]
    rng = np.random.default_rng(a.seed)
    keep = []
    for ident in sorted(test):
        members = np.flatnonzero(identities == ident)
        take = min(a.per_identity, len(members))
        keep.extend(sorted(rng.choice(members, size=take, replace=False).tolist()))
    keep = np.array(sorted(keep))
    with h5py.File(a.out, "w") as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        dst.attrs["description"] = (
            f"single-glyph {a.part} evaluation subset of {a.data}: the {len(test)} {a.part} identities of split "
            f"{a.split} (seed {a.split_seed}), {a.per_identity} random glyphs per identity (seed {a.seed})")
        for group in ("faces", "identities"):
            src.copy(src[group], dst, name=group)
        images = src["samples/images"][:][keep]
        dst.create_dataset("samples/images", data=images, chunks=(256, 32, 32), compression="gzip",
                           compression_opts=4, shuffle=True)
        dst.create_dataset("samples/identity", data=identities[keep])
        for name in src["samples/attributes"]:
            dst.create_dataset(f"samples/attributes/{name}", data=src[f"samples/attributes/{name}"][:][keep])
        for group in ("samples", "samples/attributes", "faces", "identities"):
            for key, value in src[group].attrs.items():
                dst[group].attrs[key] = value
    print(f"wrote {a.out}: {len(keep)} glyphs of {len(test)} {a.part} identities")


if __name__ == "__main__":
    main()
