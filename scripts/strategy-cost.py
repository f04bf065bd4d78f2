#!/usr/bin/env python3
"""Measures what each strategy costs per epoch, relative to `standard`, on this machine.

Usage: scripts/strategy-cost.py CONFIG [STRATEGY...] [--epochs N] [--rounds R] [--out DIR]
                                [--fuzzaug BIN]

Trains CONFIG once per strategy and round (the same model, data, epochs and seed; a strategy is
given as `name` or `name:key=value,key=value`; rounds run the strategies interleaved, so slow
spells of a shared machine hit all of them), then prints per strategy the median epoch time over
epochs 2..N of every round divided by `standard`'s, and its floor 1 + k·(train rate ÷ score
rate): k is the candidates scored per training image, the train rate `standard`'s training
throughput and the score rate the strategy's scoring throughput (candidates/s, building and
no-grad forward, from metrics.jsonl), both medians over the same epochs.
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


def median(values):
    v = sorted(values)
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2 if v else 0.0


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
    with open(os.path.join(args.out, f"cost-{label}", "summary.json")) as f:
        images = json.load(f)["train_images"]
    return [dict(r, images=images) for r in rows[1:]]  # epoch 1 warms up


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config")
    p.add_argument("strategies", nargs="*", default=DEFAULT)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--out", default="runs/cost")
    p.add_argument("--fuzzaug", default="target/release/fuzzaug")
    args = p.parse_intermixed_args()
    if not args.strategies or args.strategies[0].split(":")[0] != "standard":
        args.strategies = ["standard"] + args.strategies
    epochs = {s: [] for s in args.strategies}
    for _ in range(args.rounds):
        for s in args.strategies:
            epochs[s] += run(args, s)
    col = lambda s, key: [r.get(key, 0.0) for r in epochs[s]]
    base = median(col("standard", "epoch_seconds"))
    train_rate = median(col("standard", "train_images_per_second"))
    print(f"{len(epochs['standard'])} epochs per strategy; standard trains {train_rate:.0f} images/s")
    print(f"{'strategy':44} {'epoch s':>8} {'ratio':>6} {'k':>6} {'score/s':>8} {'floor':>6} {'ratio/floor':>11} {'skipped':>8}")
    for s in args.strategies:
        k = median([r["scored_candidates"] / r["images"] for r in epochs[s]])
        score_rate = median(col(s, "score_images_per_second"))
        floor = 1 + k * train_rate / score_rate if score_rate else 1.0
        ratio = median(col(s, "epoch_seconds")) / base
        print(f"{s:44} {median(col(s, 'epoch_seconds')):8.2f} {ratio:6.2f} {k:6.2f} {score_rate:8.0f} "
              f"{floor:6.2f} {ratio / floor:11.3f} {median(col(s, 'skipped_robust')):8.0f}")

if __name__ == "__main__":
    main()
