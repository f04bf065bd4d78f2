#!/usr/bin/env python3
"""Parity of fuzzaug with its PyTorch twin: the same recipe (bench/parity.toml), the same data,
several seeds on each side, strategy by strategy.

Writes the twin's procedural dataset once as CIFAR-10 binary batches, then for every strategy
and seed trains it with `fuzzaug run` and with bench/twin.py (the provisioned PyTorch 2.11.0),
alternating the two so that a slow spell of the machine hits both, and prints one table: the
mean test and robust accuracy of each side with its standard error, and whether fuzzaug's mean
lies within 2 standard errors of the twin's. Every run's figures go to --out/results.jsonl.

Usage: bench/parity.py [--fuzzaug BIN] [--python PY] [--out DIR] [--seeds N]
                       [--strategy S]... [--train N] [--test N] [--epochs N]
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from importlib import import_module  # noqa: E402

side_by_side = import_module("side-by-side")


def fail(msg):
    sys.exit(f"parity: error: {msg}")


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        fail(f"`{' '.join(map(str, cmd))}` failed (exit {proc.returncode}):\n"
             f"{proc.stdout.strip()}\n{proc.stderr.strip()}")
    return proc.stdout


def fuzzaug_run(args, config, strategy, seed):
    name = f"parity-{strategy}-{seed}"
    sets = [f"name=\"{name}\"", f"seed={seed}", f"strategy.name=\"{strategy}\"",
            f"output_dir=\"{args.out / 'runs'}\"", f"train.epochs={args.epochs}"]
    if strategy == "w10":
        sets.append("strategy.k=10")
    cmd = [args.fuzzaug, "run", str(config), "--overwrite", "--quiet"]
    for s in sets:
        cmd += ["--set", s]
    run(cmd)
    summary = json.loads((args.out / "runs" / name / "summary.json").read_text())
    return {k: summary[k] for k in ("test_acc", "robust_acc", "robust_grid_size", "robust_subset",
                                    "train_seconds")}


def twin_run(args, config, strategy, seed):
    out = run([args.python, str(ROOT / "bench/twin.py"), "train", str(config), "--seed", str(seed),
               "--strategy", strategy, "--json"])
    return json.loads(out.strip().splitlines()[-1])


def mean_se(values):
    m = statistics.fmean(values)
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")
    return m, se


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fuzzaug", default=str(ROOT / "target/release/fuzzaug"))
    p.add_argument("--python", help="a Python with torch 2.11.0 (default: the provisioned one)")
    p.add_argument("--out", type=Path, default=ROOT / "runs/parity")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--strategy", action="append", help="default: standard, random, w10")
    p.add_argument("--train", type=int, default=2000, help="training images written")
    p.add_argument("--test", type=int, default=1000, help="test images written")
    p.add_argument("--epochs", type=int, default=6)
    args = p.parse_args()
    if args.seeds < 2:
        fail("--seeds must be at least 2 for a standard error")
    args.python = side_by_side.torch_python(args.python)
    args.out.mkdir(parents=True, exist_ok=True)
    data = args.out / "data"
    run([args.python, str(ROOT / "bench/twin.py"), "write-data", str(data), "--train",
         str(args.train), "--test", str(args.test)])
    # The recipe with its data path pointing at what was just written; epochs as asked.
    text = (ROOT / "bench/parity.toml").read_text()
    text = text.replace('path = "data"', f'path = "{data}"')
    text = text.replace("epochs = 6", f"epochs = {args.epochs}")
    config = args.out / "parity.toml"
    config.write_text(text)
    strategies = args.strategy or ["standard", "random", "w10"]
    results = {(side, s): [] for side in ("fuzzaug", "twin") for s in strategies}
    with open(args.out / "results.jsonl", "w") as log:
        for seed in range(args.seeds):
            for s in strategies:
                for side, fn in (("fuzzaug", fuzzaug_run), ("twin", twin_run)):
                    r = fn(args, config, s, seed)
                    results[(side, s)].append(r)
                    log.write(json.dumps({"side": side, "strategy": s, "seed": seed, **r}) + "\n")
                    log.flush()
                    print(f"{side:8} {s:9} seed {seed}: test {r['test_acc']:.4f}  robust "
                          f"{r['robust_acc']:.4f}", file=sys.stderr)
    print(f"\n{args.seeds} seeds each, {args.train} training / {args.test} test images, "
          f"{args.epochs} epochs; mean ± standard error; 'within' = |fuzzaug − twin| ≤ 2 SE of "
          "the twin\n")
    print("| strategy | metric | fuzzaug | PyTorch twin | difference | within 2 SE of the twin | "
          "difference / its SE |")
    print("|---|---|---|---|---|---|---|")
    ok = True
    for s in strategies:
        for metric in ("test_acc", "robust_acc"):
            f_m, f_se = mean_se([r[metric] for r in results[("fuzzaug", s)]])
            t_m, t_se = mean_se([r[metric] for r in results[("twin", s)]])
            within = abs(f_m - t_m) <= 2 * t_se
            ok &= within
            both = (f_se ** 2 + t_se ** 2) ** 0.5
            z = (f_m - t_m) / both if both > 0 else float("nan")
            print(f"| {s} | {metric} | {f_m:.4f} ± {f_se:.4f} | {t_m:.4f} ± {t_se:.4f} | "
                  f"{f_m - t_m:+.4f} | {'yes' if within else 'no'} | {z:+.2f} |")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
