#!/usr/bin/env python3
"""`make bench`: fuzzaug's throughputs next to the PyTorch reference's, measured in one go.

Runs `fuzzaug bench --json` and `bench/reference.py` (with the provisioned PyTorch 2.11.0
Python, on the same device, batch size, image shape, layout and precision) alternately for
--rounds rounds, takes each figure's median over the rounds, and prints one table with the
fuzzaug / PyTorch ratios. Both JSON reports of every round go to --out.

Usage: bench/side-by-side.py [--fuzzaug BIN] [--python PY] [--rounds N] [--device D]
                             [--strategy S]... [--repeats N] [--epochs N] [--set KEY=VALUE]...
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TORCHVISION = "torchvision==0.26.0"  # the release that pairs with torch 2.11.0


def fail(msg):
    sys.exit(f"side-by-side: error: {msg}")


def torch_python(explicit):
    """The Python whose torch is the libtorch fuzzaug builds against."""
    if explicit:
        return explicit
    try:
        torch_dir = subprocess.run([sys.executable, str(ROOT / "scripts/provision-libtorch.py")],
                                   check=True, capture_output=True, text=True).stdout.strip()
    except subprocess.CalledProcessError as e:
        fail(f"cannot provision libtorch: {e.stderr.strip()}")
    for parent in Path(torch_dir).parents:
        for name in ("bin/python3", "bin/python"):
            if (parent / name).is_file():
                return str(parent / name)
    if subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0:
        return sys.executable
    fail(f"no Python with torch found for {torch_dir}; pass --python")


def ensure_torchvision(python):
    """The reference's per-image loop needs torchvision; installed into fuzzaug's own cache
    environment when missing, never into a user's Python."""
    if subprocess.run([python, "-c", "import torchvision"], capture_output=True).returncode == 0:
        return
    if "fuzzaug" not in python:
        fail(f"{python} has no torchvision; install it with `{python} -m pip install {TORCHVISION}`")
    print(f"installing {TORCHVISION} into {python}'s environment", file=sys.stderr)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", TORCHVISION,
                    "pillow", "numpy"], check=True)


def run_json(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        fail(f"`{' '.join(cmd)}` failed (exit {proc.returncode}):\n{proc.stderr.strip()}")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        fail(f"`{' '.join(cmd)}` printed no JSON object:\n{proc.stdout}{proc.stderr}")


def median_report(reports):
    """Each measured figure (floats, and numbers inside dicts) as its median over the reports;
    settings (integers, strings) as the first report has them."""
    out = dict(reports[0])
    for key, value in reports[0].items():
        if isinstance(value, float):
            out[key] = statistics.median(r[key] for r in reports)
        elif isinstance(value, dict):
            out[key] = {k: statistics.median(r[key][k] for r in reports) for k in value}
    return out


def grouped(v):
    return f"{v:,.0f}"


def hardware(fz):
    """The GPU and its host's CPU on CUDA, else the CPU (as `fuzzaug bench` prints it)."""
    return f"{fz['gpu']}; host CPU {fz['cpu']}" if fz.get("gpu") else fz["cpu"]


def table(fz, py, rounds):
    c, h, w = fz["image"]
    lines = [
        f"fuzzaug {fz['fuzzaug']} vs PyTorch {py['torch']} (bench/reference.py): {fz['model']}, "
        f"{c}×{h}×{w} images, batch {fz['batch_size']}, scoring passes of {fz['score_pass']}",
        f"device {fz['device']} ({hardware(fz)}), {fz['threads']} threads (PyTorch {py['threads']}), "
        f"{fz['precision']}, {'channels-last' if fz['channels_last'] else 'NCHW'}; "
        f"medians of {rounds} alternating run(s) of each",
        "",
        f"{'images/s':<44} {'fuzzaug':>10} {'PyTorch':>10} {'fuzzaug/PyTorch':>16}",
    ]
    rows = [
        ("augment, batched", "augment_images_per_second", "augment_images_per_second"),
        ("augment vs PyTorch's per-image loop", "augment_images_per_second",
         "augment_per_image_images_per_second"),
        ("score (no-grad forward)", "score_images_per_second", "score_images_per_second"),
        ("train step (forward, backward, step)", "train_images_per_second",
         "train_images_per_second"),
        ("grid variants (robust evaluation)", "grid_variants_per_second",
         "grid_variants_per_second"),
    ]
    for label, fk, pk in rows:
        a, b = fz[fk], py[pk]
        lines.append(f"{label:<44} {grouped(a):>10} {grouped(b):>10} {a / b:>15.2f}×")
    lines += ["", f"{'epoch time / standard':<22} {'fuzzaug':>8} {'floor':>7} {'ratio/floor':>12} "
                  f"{'PyTorch':>8}"]
    names = sorted(fz["epoch_ratio"], key=lambda n: (n != "standard", n))
    for n in names:
        ratio, fl = fz["epoch_ratio"][n], fz["epoch_floor"][n]
        ref = py["epoch_ratio"].get(n)
        lines.append(f"{n:<22} {ratio:>8.2f} {fl:>7.2f} {ratio / fl:>12.2f} "
                     f"{'—' if ref is None else f'{ref:.2f}':>8}")
    ks = ", ".join(f"{n} {fz['candidates_per_image'][n]:g}" for n in names
                   if fz["candidates_per_image"][n])
    lines += ["", f"floor: 1 + k · train ÷ score images/s (k = candidates scored per image: {ks})",
              "PyTorch epochs: standard, random and w10 written batched in PyTorch (bench/reference.py)"]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fuzzaug", default=str(ROOT / "target/release/fuzzaug"))
    p.add_argument("--python", help="Python with torch 2.11.0 (default: the provisioned one)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--strategy", action="append", default=[])
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--per-image", type=int, default=64)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", default=str(ROOT / "target/bench"))
    a = p.parse_args()
    if a.rounds < 1:
        fail("--rounds must be at least 1")
    if not os.access(a.fuzzaug, os.X_OK):
        fail(f"{a.fuzzaug} is not an executable; build it with `make build`")
    python = torch_python(a.python)
    ensure_torchvision(python)
    os.makedirs(a.out, exist_ok=True)
    fz_cmd = [a.fuzzaug, "bench", "--json", "--quiet", "--device", a.device,
              "--repeats", str(a.repeats), "--epochs", str(a.epochs)]
    fz_cmd += [f"--strategy={s}" for s in a.strategy] + [f"--set={s}" for s in a.set]
    fz_runs, py_runs = [], []
    for r in range(a.rounds):
        print(f"round {r + 1}/{a.rounds}: fuzzaug bench", file=sys.stderr)
        fz = run_json(fz_cmd)
        ch, size, _ = fz["image"]
        py_cmd = [python, str(ROOT / "bench/reference.py"), "--json", "--device", a.device,
                  "--model", fz["model"], "--batch-size", str(fz["batch_size"]),
                  "--epoch-images", str(fz["train_images"]), "--channels", str(ch),
                  "--size", str(size), "--classes", str(fz["classes"]),
                  "--repeats", str(a.repeats), "--epoch-repeats", str(a.epochs),
                  "--per-image", str(a.per_image),
                  "--channels-last" if fz["channels_last"] else "--no-channels-last"]
        if fz["precision"] == "bf16":
            py_cmd.append("--bf16")
        if fz["image"][1] != fz["image"][2]:
            fail("the PyTorch reference measures square images only")
        print(f"round {r + 1}/{a.rounds}: PyTorch reference", file=sys.stderr)
        py = run_json(py_cmd)
        for name, rep in (("fuzzaug", fz), ("pytorch", py)):
            with open(os.path.join(a.out, f"{name}-{r + 1}.json"), "w") as f:
                json.dump(rep, f, indent=1)
        fz_runs.append(fz)
        py_runs.append(py)
    print(table(median_report(fz_runs), median_report(py_runs), a.rounds))


if __name__ == "__main__":
    main()
