#!/usr/bin/env python3
"""The loss parameters loss-controlled runs continued with, round by round (RESULTS.md, issue 18 (d):
do the parameters differ by target?).

usage: plot_paths.py OUT.png LABEL=RUN_DIR [LABEL=RUN_DIR...]

One panel per steered parameter (scale, cos_margin, tail_weight when present), one line per run,
read from each run's history.jsonl by ala_analysis.analyse (the parameters of the child the
population continued from after every round). Needs matplotlib (the bench venv has it).
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ala_analysis import analyse  # noqa: E402

PARAMETERS = ["scale", "cos_margin", "tail_weight"]


def main(argv):
    if len(argv) < 2 or any("=" not in a for a in argv[1:]):
        sys.exit(__doc__.strip().splitlines()[3])
    out = argv[0]
    runs = [a.split("=", 1) for a in argv[1:]]
    paths = []
    for label, run in runs:
        if not os.path.isfile(os.path.join(run, "history.jsonl")):
            sys.exit(f"plot_paths.py: {run}/history.jsonl: not found")
        paths.append((label, analyse(run)["path"]))
    shown = [p for p in PARAMETERS if any(p in step["parameters"] for _, path in paths for step in path)]
    figure, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 3.4), squeeze=False)
    for axis, name in zip(axes[0], shown):
        for label, path in paths:
            steps = [s["step"] for s in path if name in s["parameters"]]
            values = [s["parameters"][name] for s in path if name in s["parameters"]]
            axis.plot(steps, values, marker="o", markersize=3, label=label)
        axis.set_title(name)
        axis.set_xlabel("training step")
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    temporary = out + ".tmp.png"
    figure.savefig(temporary, dpi=110)
    os.replace(temporary, out)
    print(out)


if __name__ == "__main__":
    main(sys.argv[1:])
