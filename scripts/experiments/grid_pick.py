#!/usr/bin/env python3
"""The pick of a fixed-loss grid by validation alone (RESULTS.md, issue 18, arm (b)).

usage: grid_pick.py RUN_DIR [RUN_DIR...]

Each run's kept model (model.h5) is its best validation of the run's target, so a run's value is
the lowest validation value in its history.jsonl (child 0: the grid's runs are fixed-loss, one
path). Prints every run's value and the step it was reached, then the pick (lowest value; a tie
goes to the run named first) on the last line as `pick RUN_DIR`. The test split is not read.
"""
import json
import os
import sys


def kept_validation(run):
    best = None
    path = os.path.join(run, "history.jsonl")
    try:
        lines = open(path).read().splitlines()
    except OSError as error:
        sys.exit(f"grid_pick.py: {path}: {error.strerror}")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            value = float(row["validation"]["value"])
            step = int(row["step"])
        except (ValueError, KeyError, TypeError):
            sys.exit(f"grid_pick.py: {path}: line {number} is not a validation record")
        if row.get("child", 0) == 0 and (best is None or value < best[0]):
            best = (value, step, row["validation"].get("target", "?"))
    if best is None:
        sys.exit(f"grid_pick.py: {path}: no validation records")
    return best


def main(runs):
    if not runs:
        sys.exit(__doc__.strip().splitlines()[2])
    results = [(run, *kept_validation(run)) for run in runs]
    targets = {target for _, _, _, target in results}
    if len(targets) != 1:
        sys.exit(f"grid_pick.py: the runs validate different targets: {sorted(targets)}")
    for run, value, step, target in results:
        print(f"{run}: {target} {value:.4f} at step {step}")
    pick = min(results, key=lambda r: r[1])
    print(f"pick {pick[0]}")


if __name__ == "__main__":
    main(sys.argv[1:])
