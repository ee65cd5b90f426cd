"""Writes COPIES copies of an alaverify-samples file's images as one larger file (identities of
copy c renamed `<name>-c`, same chunking and filters: 256 rows, gzip 4, shuffle, Fletcher-32),
to show how training memory grows with the file in memory and with --stream.

usage: python bench/replicate_samples.py IN.h5 OUT.h5 [--copies 4]
"""
import argparse

import h5py
import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--copies", type=int, default=4)
    args = parser.parse_args()
    with h5py.File(args.source, "r") as src, h5py.File(args.out, "w") as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        images = src["samples/images"][:]
        identities = src["samples/identity"][:]
        names = [n.decode() if isinstance(n, bytes) else n for n in src["identities/name"][:]]
        dst.create_dataset("samples/images", data=np.concatenate([images] * args.copies), chunks=(256,) + images.shape[1:],
                           compression="gzip", compression_opts=4, shuffle=True, fletcher32=True)
        dst.create_dataset("samples/identity",
                           data=np.concatenate([identities + c * len(names) for c in range(args.copies)]).astype("int32"))
        dst.create_dataset("identities/name", data=[f"{n}-{c}" for c in range(args.copies) for n in names],
                           dtype=h5py.string_dtype())


if __name__ == "__main__":
    main()
