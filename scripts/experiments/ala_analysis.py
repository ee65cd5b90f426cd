#!/usr/bin/env python3
"""What a loss-controlled population run did, from its history.jsonl alone (RESULTS.md, issue 18).

usage: ala_analysis.py RUN_DIR [RUN_DIR...] [--json OUT.json]

Per run:
  * decisions: controller rounds x children x steered parameters (one raise/keep/lower each; a
    parameter kept at every decision of the run counts as not steered);
  * reward reliability: in every round with two or more children, the children's reward values
    on two disjoint halves of the validation identities (`validation_halves`). The ranking is
    reliable when both halves order the children the same way: for two children the sign of
    the difference agrees (ties on either half are counted apart); for more, the child best on
    half 0 is also best on half 1. The old controller's figure was 52-60% sign agreement;
  * actions: the share of raise / keep / lower per steered parameter, in the first and the
    second half of the run (a policy whose actions do not depend on progress shows the same
    shares in both);
  * the path: the loss parameters the population continued with after each round.
"""
import json
import os
import sys
from collections import defaultdict


def load(run):
    rows = [json.loads(line) for line in open(os.path.join(run, "history.jsonl")) if line.strip()]
    rounds = defaultdict(list)
    for r in rows:
        rounds[r["step"]].append(r)
    return [sorted(rounds[s], key=lambda r: r["child"]) for s in sorted(rounds)]


def analyse(run):
    rounds = load(run)
    children = max(len(r) for r in rounds)
    names = list(rounds[0][0]["loss_parameters"].keys())
    agree = disagree = ties = 0
    decisions = 0
    steered = None
    shares = {}
    path = []
    for k, members in enumerate(rounds):
        acted = [m for m in members if m.get("actions") is not None]
        if acted:
            steered = len(acted[0]["actions"])
            decisions += sum(len(m["actions"]) for m in acted)
            part = "first" if k < len(rounds) / 2 else "second"
            for m in acted:
                for i, a in enumerate(m["actions"]):
                    shares.setdefault((i, part), [0, 0, 0])[a + 1] += 1
        halves = [m.get("validation_halves") for m in members]
        if len(members) >= 2 and all(h is not None for h in halves):
            if len(members) == 2:
                d0 = halves[0][0] - halves[1][0]
                d1 = halves[0][1] - halves[1][1]
                if d0 == 0 or d1 == 0:
                    ties += 1
                elif (d0 > 0) == (d1 > 0):
                    agree += 1
                else:
                    disagree += 1
            else:
                b0 = min(range(len(members)), key=lambda c: halves[c][0])
                b1 = min(range(len(members)), key=lambda c: halves[c][1])
                if b0 == b1:
                    agree += 1
                else:
                    disagree += 1
        cont = members[0].get("continued_from")
        chosen = members[cont] if cont is not None and cont < len(members) else members[0]
        path.append({"step": members[0]["step"], "continued_from": cont,
                     "value": chosen["validation"]["value"], "parameters": chosen["loss_parameters"]})
    judged = agree + disagree
    action_names = ["lower", "keep", "raise"]
    actions = {}
    if steered:
        labels = names if len(names) == steered else [f"p{i}" for i in range(steered)]
        for i in range(steered):
            parts = {part: dict(zip(action_names, shares.get((i, part), [0, 0, 0]))) for part in ("first", "second")}
            # A parameter the controller does not steer is kept at every decision.
            if any(v["lower"] or v["raise"] for v in parts.values()):
                actions[labels[i]] = parts
        moving = len(actions)
        decisions = decisions * moving // steered
        steered = moving
    return {
        "run": run, "rounds": len(rounds), "children": children, "steered_parameters": steered,
        "decisions": decisions,
        "reward_sign_agreement": agree / judged if judged else None,
        "rounds_judged": judged, "ties": ties,
        "actions": actions, "path": path,
    }


def main():
    args = sys.argv[1:]
    out = None
    if "--json" in args:
        i = args.index("--json")
        out = args[i + 1]
        del args[i:i + 2]
    if not args:
        sys.exit(__doc__)
    results = [analyse(run) for run in args]
    for r in results:
        ag = r["reward_sign_agreement"]
        print(f"{r['run']}: {r['rounds']} rounds x {r['children']} children, "
              f"{r['decisions']} decisions ({r['steered_parameters']} parameters steered); "
              f"reward ranking agrees between validation halves in "
              + (f"{ag:.0%} of {r['rounds_judged']} rounds" if ag is not None else "- (no halves)")
              + (f" ({r['ties']} ties)" if r["ties"] else ""))
        for name, parts in r["actions"].items():
            print(f"  {name:>12}: " + "; ".join(
                f"{part} half lower/keep/raise {v['lower']}/{v['keep']}/{v['raise']}" for part, v in parts.items()))
        last = r["path"][-1]
        print("  continued with: " + ", ".join(f"{k}={v:.4g}" for k, v in last["parameters"].items())
              + f" (validation {last['value']:.4f} at step {last['step']})")
    if out:
        with open(out + ".tmp", "w") as f:
            json.dump(results, f, indent=1)
        os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
