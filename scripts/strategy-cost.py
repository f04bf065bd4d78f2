#!/usr/bin/env python3
"""Measures what each strategy costs per epoch, relative to `standard`, on this machine.

Usage: scripts/strategy-cost.py CONFIG [--epochs N] [--out DIR] [--fuzzaug BIN] [-- STRATEGY...]

Trains CONFIG once per strategy (the same model, data, epochs and seed; the strategy given as
`name` or `name:key=value,key=value`), then prints, per strategy, the mean epoch time over
epochs 2..N divided by `standard`'s, and its floor 1 + k·(train rate ÷ score rate): k is the
candidates scored per training image, the train rate is the run's own training-step throughput
(images/s outside scoring and the strategy's calls) and the score rate its scoring throughput
(candidates/s, building and no-grad forward), both from the run's metrics.jsonl.
"""
import argparse
import json
import os
import subprocess
import sys

DEFAULT = [
    "standard",
    "random",
    "w10",
    "sensei:selective.enabled=false",
    "sensei",
]


def run(args, spec):
    name, _, sets = spec.partition(":")
    label = spec.replace(":", "-").replace("=", "").replace(",", "-").replace(".", "_")
    cmd = [args.fuzzaug, "run", args.config, "--overwrite", "--quiet",
           "--set", f'name="cost-{label}"', "--set", f'output_dir="{args.out}"',
           "--set", f"train.epochs={args.epochs}", "--set", f'strategy.name="{name}"',
           "--set", f"eval.robust_every={args.epochs}"]
    for kv in filter(None, sets.split(",")):
        key, value = kv.split("=", 1)
        cmd += ["--set", f"strategy.{key}={value}"]
    subprocess.run(cmd, check=True)
    with open(os.path.join(args.out, f"cost-{label}", "metrics.jsonl")) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if len(rows) < 2:
        sys.exit(f"error: {spec}: need at least 2 epochs, got {len(rows)}")
    rows = rows[1:]  # epoch 1 warms up
    mean = lambda key: sum(r.get(key, 0.0) for r in rows) / len(rows)
    with open(os.path.join(args.out, f"cost-{label}", "summary.json")) as f:
        images = json.load(f)["train_images"]
    return {
        "spec": spec,
        "epoch": mean("epoch_seconds"),
        "k": mean("scored_candidates") / images,
        "train_rate": mean("train_step_images_per_second"),
        "score_rate": mean("score_images_per_second"),
        "strategy_seconds": mean("strategy_seconds"),
        "skipped": mean("skipped_robust"),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config")
    p.add_argument("strategies", nargs="*", default=DEFAULT)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--out", default="runs/cost")
    p.add_argument("--fuzzaug", default="target/release/fuzzaug")
    args = p.parse_intermixed_args()
    if not args.strategies or args.strategies[0].split(":")[0] != "standard":
        args.strategies = ["standard"] + args.strategies
    results = [run(args, s) for s in args.strategies]
    base = results[0]["epoch"]
    print(f"{'strategy':34} {'epoch s':>8} {'ratio':>6} {'k':>6} {'train/s':>8} {'score/s':>8} {'floor':>6} {'ratio/floor':>11} {'skipped':>8}")
    for r in results:
        floor = 1 + r["k"] * r["train_rate"] / r["score_rate"] if r["score_rate"] else 1.0
        ratio = r["epoch"] / base
        print(f"{r['spec']:34} {r['epoch']:8.2f} {ratio:6.2f} {r['k']:6.2f} {r['train_rate']:8.0f} "
              f"{r['score_rate']:8.0f} {floor:6.2f} {ratio / floor:11.3f} {r['skipped']:8.0f}")


if __name__ == "__main__":
    main()
