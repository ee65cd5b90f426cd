"""A cjk-mini-like file drawn only from a run's training and validation identities.

cjk-mini.h5 is a draw from the whole dev file, so some of its identities are in the test split
of a full-set run; a policy learned on it has seen (as training or validation data) identities
that the full run reports on. This draw keeps the test split out:

    python mini_from_split.py FULL.h5 RUN/split.json OUT.h5 [--identities 400] [--samples 24] [--seed 20261207]

Identities are drawn (seeded) from the split's train + validation identities, samples per
identity drawn (seeded) and kept in file order; the layout is that of the full file
(alaverify-samples v1), the face table copied whole. Needs numpy and h5py.
"""
import argparse
import json
import os

import h5py
import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("full")
    parser.add_argument("split")
    parser.add_argument("out")
    parser.add_argument("--identities", type=int, default=400)
    parser.add_argument("--samples", type=int, default=24)
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args()

    split = json.load(open(args.split))
    allowed = sorted(set(split["train"]["identities"]) | set(split["validation"]["identities"]))
    test = set(split["test"]["identities"])
    rng = np.random.default_rng(args.seed)
    chosen = np.sort(rng.choice(allowed, size=args.identities, replace=False))
    assert not (set(chosen.tolist()) & test)

    with h5py.File(args.full, "r") as src:
        labels = src["samples/identity"][:]
        rows = []
        for identity in chosen:
            own = np.flatnonzero(labels == identity)
            take = own if len(own) <= args.samples else np.sort(rng.choice(own, size=args.samples, replace=False))
            rows.append(take)
        rows = np.concatenate(rows)
        remap = {int(old): new for new, old in enumerate(chosen)}
        tmp = args.out + ".tmp"
        with h5py.File(tmp, "w") as dst:
            for key, value in src.attrs.items():
                dst.attrs[key] = value
            dst.attrs["description"] = (str(src.attrs.get("description", ""))
                                        + f" Subset: {args.identities} train/validation identities of {os.path.basename(args.split)}, seed {args.seed}.")
            src.copy("faces", dst)
            dst.create_dataset("identities/codepoint", data=src["identities/codepoint"][:][chosen])
            dst.create_dataset("identities/name", data=src["identities/name"][:][chosen],
                               dtype=h5py.string_dtype())
            dst.create_dataset("samples/identity", data=np.array([remap[int(x)] for x in labels[rows]], dtype=np.int32))
            dst.create_dataset("samples/attributes/face", data=src["samples/attributes/face"][:][rows])
            dst.create_dataset("samples/images", data=src["samples/images"][:][rows], chunks=(256, 32, 32),
                               compression="gzip", shuffle=True)
        os.replace(tmp, args.out)
    print(f"{args.out}: {args.identities} identities, {len(rows)} samples, none of the {len(test)} test identities")


if __name__ == "__main__":
    main()
