#!/usr/bin/env python3
"""The PyTorch twin of `fuzzaug run`: trains what a fuzzaug config describes, written as a
PyTorch user would, so that fuzzaug's accuracies can be set beside an independent
implementation of the same recipe (`bench/parity.py` does, over several seeds).

Run with the provisioned PyTorch 2.11.0 Python (bench/parity.py finds it):
    python bench/twin.py train CONFIG.toml [--seed S] [--strategy NAME] [--json]
    python bench/twin.py write-data DIR [--train N] [--test N] [--seed S]
    python bench/twin.py crosscheck CONFIG.toml --weights W.npz --probe P.npz --after A.npz

`train` reads from the config: [dataset] (cifar10 binary files, `path` relative to the config,
`mean`/`std` required so both sides normalise alike), [model] arch = "small-cnn",
[train] epochs, batch_size, optimizer (sgd or adamw), schedule (constant, step, multistep,
cosine, with warm-up), hflip, [[transforms]] (the seven genes of the study, with range and
step), [strategy] standard, random or w10 (k), [eval] robust_subset. Anything else is refused
rather than silently trained differently. It prints test accuracy and robust accuracy (every
test image of the subset under all {lo, identity, hi} combinations of the genes).

`write-data` writes a procedural 10-class dataset (arrows in eight directions, a ring and a
cross, random position, size, colours and pixel noise) as CIFAR-10 binary batches, the format
both fuzzaug's `cifar10` component and this twin read.

`crosscheck` sets the twin beside fuzzaug on the same weights, which removes the seed-to-seed
noise of training from the comparison: W.npz holds a fuzzaug model's variables, P.npz the
variants fuzzaug built (`owners`, `genes` in config order, normalised `x`), the logits fuzzaug's
model gave them, and a training batch (`batch_x`, `batch_y`, learning rates `lrs`, one optimiser
step each); A.npz the variables after fuzzaug's steps. It prints, as JSON, how far the twin's
variants, logits and stepped weights are from fuzzaug's, and its own test and robust accuracy
of the loaded model.
"""
import argparse
import json
import math
import sys
import time
import tomllib
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference import GENES, MODELS, augment_batched  # noqa: E402

# Where each gene sits in reference.augment_batched's seven columns, and its identity.
COLUMNS = {name: i for i, name in enumerate(GENES)}
IDENTITY = {"rotation": 0.0, "translate_x": 0.0, "translate_y": 0.0, "shear": 0.0, "zoom": 1.0,
            "brightness": 0.0, "contrast": 1.0}
CIFAR_CLASSES = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def fail(msg):
    sys.exit(f"twin: error: {msg}")


# ---------------------------------------------------------------------------------------------
# The recipe


def allowed(table, keys, where):
    extra = sorted(set(table) - set(keys))
    if extra:
        fail(f"{where}: the twin does not implement {', '.join(extra)}")


def recipe(path, seed, strategy):
    cfg = tomllib.loads(Path(path).read_text())
    allowed(cfg, {"name", "seed", "device", "output_dir", "plugin_dirs", "dataset", "model",
                  "train", "transforms", "strategy", "eval"}, "config")
    d = cfg.get("dataset", {})
    if d.get("name") != "cifar10":
        fail("[dataset]: the twin reads name = \"cifar10\" only")
    allowed(d, {"name", "path", "mean", "std"}, "[dataset]")
    if "mean" not in d or "std" not in d:
        fail("[dataset]: give `mean` and `std`, so both sides normalise with the same values")
    if cfg.get("model", {}).get("arch", "small-cnn") not in MODELS:
        fail(f"[model] arch: the twin has {', '.join(MODELS)}")
    t = cfg.get("train", {})
    allowed(t, {"epochs", "batch_size", "optimizer", "schedule", "hflip", "precision",
                "channels_last"}, "[train]")
    if t.get("precision", "fp32") != "fp32":
        fail("[train] precision: the twin trains in fp32")
    genes = []
    for g in cfg.get("transforms", []):
        allowed(g, {"name", "range", "step"}, f"[[transforms]] {g.get('name')}")
        if g["name"] not in COLUMNS:
            fail(f"[[transforms]]: the twin has {', '.join(COLUMNS)}")
        genes.append((g["name"], *g["range"], g.get("step")))
    s = dict(cfg.get("strategy", {"name": "standard"}))
    if strategy:
        s["name"] = strategy
    if s["name"] not in ("standard", "random", "w10"):
        fail("[strategy]: the twin has standard, random and w10")
    allowed(s, {"name", "k"}, "[strategy]")
    data = Path(path).resolve().parent / d["path"]
    return {
        "data": data, "mean": d["mean"], "std": d["std"],
        "arch": cfg.get("model", {}).get("arch", "small-cnn"),
        "epochs": t.get("epochs", 10), "batch": t.get("batch_size", 128),
        "optimizer": t.get("optimizer", {"kind": "sgd", "lr": 0.05, "momentum": 0.9,
                                         "nesterov": True, "weight_decay": 1e-4}),
        "schedule": t.get("schedule", {"kind": "constant"}),
        "hflip": t.get("hflip", False), "channels_last": t.get("channels_last", True),
        "genes": genes, "strategy": s["name"], "k": s.get("k", 10),
        "subset": cfg.get("eval", {}).get("robust_subset"),
        "seed": cfg.get("seed", 0) if seed is None else seed,
    }


def learning_rate(schedule, base, progress, epochs):
    """fuzzaug's schedules, at `progress` (fractional) epochs."""
    kind, warmup = schedule["kind"], schedule.get("warmup_epochs", 0)
    epoch = math.floor(progress)
    if kind == "constant":
        lr = base
    elif kind == "step":
        lr = base * schedule.get("gamma", 0.1) ** (epoch // schedule["every"])
    elif kind == "multistep":
        lr = base * schedule.get("gamma", 0.1) ** sum(m <= epoch for m in schedule["milestones"])
    elif kind == "cosine":
        lo = schedule.get("min_lr", 0.0)
        span = max(epochs - warmup, 1)
        t = min(max((progress - warmup) / span, 0.0), 1.0)
        lr = lo + (base - lo) * 0.5 * (1 + math.cos(math.pi * t))
    else:
        fail(f"schedule `{kind}`")
    if warmup > 0 and progress < warmup:
        lr *= max(progress / warmup, 1e-3)
    return lr


def optimizer(model, spec):
    if spec["kind"] == "sgd":
        return torch.optim.SGD(model.parameters(), lr=spec["lr"], momentum=spec.get("momentum", 0.0),
                               nesterov=spec.get("nesterov", False),
                               weight_decay=spec.get("weight_decay", 0.0))
    if spec["kind"] == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=spec["lr"],
                                 weight_decay=spec.get("weight_decay", 0.01),
                                 betas=tuple(spec.get("betas", (0.9, 0.999))),
                                 eps=spec.get("eps", 1e-8))
    fail(f"optimizer `{spec['kind']}`")


# ---------------------------------------------------------------------------------------------
# Data


def read_cifar(folder, names):
    raw = b"".join((folder / n).read_bytes() for n in names)
    records = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(-1, 3073)
    return records[:, 1:].reshape(-1, 3, 32, 32).clone(), records[:, 0].long().clone()


def cifar_folder(path):
    nested = path / "cifar-10-batches-bin"
    return nested if nested.is_dir() else path


def shapes(n, gen):
    """n procedural 32×32 RGB images in 10 classes: arrows pointing in eight directions
    (classes 0-7, 45° apart, so ±20° rotations keep them apart), a ring (8) and a cross (9)."""
    labels = torch.randint(0, 10, (n,), generator=gen)
    ys, xs = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    out = torch.empty(n, 3, 32, 32)
    for i in range(n):
        c = int(labels[i])
        cx, cy = (15.5 + torch.rand(2, generator=gen) * 6 - 3).tolist()
        size = 7 + float(torch.rand(1, generator=gen) * 4)
        x, y = xs - cx, ys - cy
        if c < 8:
            a = c * math.pi / 4
            u = x * math.cos(a) + y * math.sin(a)     # along the arrow
            v = -x * math.sin(a) + y * math.cos(a)    # across it
            shaft = (u.abs() <= size) & (v.abs() <= size * 0.18)
            head = (u >= size * 0.2) & (u <= size) & (v.abs() <= (size - u) * 0.9)
            mask = shaft | head
        elif c == 8:
            r = (x * x + y * y).sqrt()
            mask = (r <= size) & (r >= size * 0.55)
        else:
            mask = ((x.abs() <= size) & (y.abs() <= size * 0.22)) | \
                   ((y.abs() <= size) & (x.abs() <= size * 0.22))
        fg = torch.rand(3, generator=gen) * 155 + 100
        bg = torch.rand(3, generator=gen) * 80
        img = torch.where(mask, fg.view(3, 1, 1), bg.view(3, 1, 1))
        out[i] = img + torch.randn(3, 32, 32, generator=gen) * 8
    return out.round().clamp(0, 255).to(torch.uint8), labels


def write_data(args):
    gen = torch.Generator().manual_seed(args.seed)
    folder = Path(args.dir) / "cifar-10-batches-bin"
    folder.mkdir(parents=True, exist_ok=True)

    def records(images, labels):
        return torch.cat([labels.to(torch.uint8).view(-1, 1), images.reshape(len(images), -1)],
                         1).numpy().tobytes()

    train_x, train_y = shapes(args.train, gen)
    per = math.ceil(args.train / 5)
    for b in range(5):
        part = slice(b * per, min((b + 1) * per, args.train))
        (folder / f"data_batch_{b + 1}.bin").write_bytes(records(train_x[part], train_y[part]))
    test_x, test_y = shapes(args.test, gen)
    (folder / "test_batch.bin").write_bytes(records(test_x, test_y))
    (folder / "batches.meta.txt").write_text("\n".join(CIFAR_CLASSES) + "\n")
    print(folder)


# ---------------------------------------------------------------------------------------------
# Training


class Twin:
    def __init__(self, r):
        self.r = r
        folder = cifar_folder(r["data"])
        self.train_x, self.train_y = read_cifar(folder, [f"data_batch_{b}.bin" for b in range(1, 6)])
        self.test_x, self.test_y = read_cifar(folder, ["test_batch.bin"])
        self.mean = torch.tensor(r["mean"]).view(1, 3, 1, 1) * 255
        self.std = torch.tensor(r["std"]).view(1, 3, 1, 1) * 255
        torch.manual_seed(r["seed"])
        self.gen = torch.Generator().manual_seed(r["seed"])
        self.model = MODELS[r["arch"]](3, 10)
        if r["channels_last"]:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.opt = optimizer(self.model, r["optimizer"])
        self.pass_size = 128

    def chromosomes(self, n):
        """n uniform chromosomes (on each gene's grid when it has a step), as the seven columns
        of reference.augment_batched."""
        out = torch.tensor([IDENTITY[name] for name in GENES]).repeat(n, 1)
        for name, lo, hi, step in self.r["genes"]:
            if step:
                points = round((hi - lo) / step)
                v = lo + step * torch.randint(0, points + 1, (n,), generator=self.gen).double()
            else:
                v = lo + (hi - lo) * torch.rand(n, generator=self.gen).double()
            out[:, COLUMNS[name]] = v.float()
        return out

    def grid(self):
        """Every {lo, identity, hi} combination of the genes, as seven columns."""
        rows = [torch.tensor([IDENTITY[name] for name in GENES])]
        for name, lo, hi, _ in self.r["genes"]:
            rows = [r.clone().index_fill_(0, torch.tensor([COLUMNS[name]]), v)
                    for r in rows for v in (IDENTITY[name], lo, hi)]
        return torch.stack(rows)

    def prepare(self, x):
        x = (x.float() - self.mean) / self.std
        return x.contiguous(memory_format=torch.channels_last) if self.r["channels_last"] else x

    def build(self, images, genes):
        return images.float() if not self.r["genes"] else augment_batched(images, genes)

    def forward_eval(self, x):
        return self.forward_eval_prepared(self.prepare(x))

    @torch.no_grad()
    def forward_eval_prepared(self, x):
        self.model.eval()
        out = torch.cat([self.model(x[i:i + self.pass_size])
                         for i in range(0, len(x), self.pass_size)])
        self.model.train()
        return out

    def epoch(self, e):
        r, n = self.r, len(self.train_x)
        batches = math.ceil(n / r["batch"])
        order = torch.randperm(n, generator=self.gen)
        for b in range(batches):
            idx = order[b * r["batch"]:(b + 1) * r["batch"]]
            base = self.train_x[idx]
            if r["hflip"]:
                flip = torch.rand(len(idx), generator=self.gen) < 0.5
                base = torch.where(flip.view(-1, 1, 1, 1), base.flip(3), base)
            y = self.train_y[idx]
            if r["strategy"] == "standard":
                x = base.float()
            elif r["strategy"] == "random":
                x = self.build(base, self.chromosomes(len(idx)))
            else:
                k = r["k"]
                genes = self.chromosomes(len(idx) * k)
                owners = torch.arange(len(idx)).repeat_interleave(k)
                logits = self.forward_eval(self.build(base[owners], genes))
                loss = F.cross_entropy(logits, y[owners], reduction="none")
                worst = loss.view(-1, k).argmax(1) + torch.arange(len(idx)) * k
                x = self.build(base, genes[worst])
            for group in self.opt.param_groups:
                group["lr"] = learning_rate(r["schedule"], r["optimizer"]["lr"], e + b / batches,
                                            r["epochs"])
            loss = F.cross_entropy(self.model(self.prepare(x)), y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()

    def evaluate(self):
        test_acc = (self.forward_eval(self.test_x).argmax(1) == self.test_y).float().mean().item()
        n = len(self.test_x) if self.r["subset"] is None else min(self.r["subset"], len(self.test_x))
        grid = self.grid()
        k = len(grid)
        robust = 0
        per = max(self.pass_size * 8 // k, 1)
        for start in range(0, n, per):
            m = min(per, n - start)
            owners = torch.arange(start, start + m).repeat_interleave(k)
            x = self.build(self.test_x[owners], grid.repeat(m, 1))
            ok = (self.forward_eval(x).argmax(1) == self.test_y[owners]).view(m, k)
            robust += int(ok.all(1).sum())
        return {"test_acc": test_acc, "robust_acc": robust / max(n, 1), "robust_grid_size": k,
                "robust_subset": n}

    def run(self):
        start = time.perf_counter()
        for e in range(self.r["epochs"]):
            self.epoch(e)
        out = self.evaluate()
        out.update(seconds=time.perf_counter() - start, seed=self.r["seed"],
                   strategy=self.r["strategy"], threads=torch.get_num_threads())
        return out


# ---------------------------------------------------------------------------------------------
# Crosscheck on the same weights


def twin_name(name):
    """The twin's state-dict name of a fuzzaug small-cnn variable (`conv2.weight` ->
    `block2.0.weight`, `bn2.running_mean` -> `block2.1.running_mean`, `fc.bias` unchanged)."""
    layer, _, field = name.partition(".")
    for prefix, slot in (("conv", 0), ("bn", 1)):
        if layer.startswith(prefix) and layer[len(prefix):].isdigit():
            return f"block{layer[len(prefix):]}.{slot}.{field}"
    return name


def load_weights(model, path):
    import numpy as np
    arrays = np.load(path)
    state = {twin_name(k): torch.from_numpy(arrays[k]) for k in arrays.files}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        fail(f"{path}: the twin's model needs {missing or 'nothing more'} and has no place for "
             f"{unexpected or 'nothing'}")


def widest_gap(model, path):
    """max |twin - fuzzaug| over every variable of A.npz, the variable where it is, and the
    largest |fuzzaug| value."""
    import numpy as np
    arrays = np.load(path)
    state = model.state_dict()
    gap, where, scale = 0.0, None, 0.0
    for k in arrays.files:
        theirs = torch.from_numpy(arrays[k])
        here = float((state[twin_name(k)].float() - theirs).abs().max())
        if where is None or here > gap:
            gap, where = here, k
        scale = max(scale, float(theirs.abs().max()))
    return gap, where, scale


def crosscheck(args):
    import numpy as np
    twin = Twin(recipe(args.config, None, None))
    load_weights(twin.model, args.weights)
    probe = {k: torch.from_numpy(v) for k, v in np.load(args.probe).items()}
    genes = torch.tensor([IDENTITY[name] for name in GENES]).repeat(len(probe["owners"]), 1)
    for j, (name, *_rest) in enumerate(twin.r["genes"]):
        genes[:, COLUMNS[name]] = probe["genes"][:, j].float()
    built = twin.prepare(twin.build(twin.test_x[probe["owners"]], genes))
    logits = twin.forward_eval_prepared(probe["x"])
    out = {
        "variant_gap": float((built - probe["x"]).abs().max()),
        "logit_gap": float((logits - probe["logits"]).abs().max()),
        "logit_scale": float(probe["logits"].abs().max()),
    }
    out.update(twin.evaluate())
    twin.model.train()
    for lr in probe["lrs"].tolist():
        for group in twin.opt.param_groups:
            group["lr"] = lr
        loss = F.cross_entropy(twin.model(probe["batch_x"]), probe["batch_y"])
        twin.opt.zero_grad(set_to_none=True)
        loss.backward()
        twin.opt.step()
    out["step_gap"], out["step_gap_at"], out["step_scale"] = widest_gap(twin.model, args.after)
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train the recipe of a fuzzaug config")
    t.add_argument("config")
    t.add_argument("--seed", type=int, help="replaces the config's seed")
    t.add_argument("--strategy", help="replaces [strategy] name")
    t.add_argument("--json", action="store_true")
    w = sub.add_parser("write-data", help="write the procedural dataset as CIFAR-10 batches")
    w.add_argument("dir")
    w.add_argument("--train", type=int, default=3000)
    w.add_argument("--test", type=int, default=1000)
    w.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("crosscheck", help="compare with fuzzaug on the same weights")
    c.add_argument("config")
    c.add_argument("--weights", required=True, help="fuzzaug's variables (npz)")
    c.add_argument("--probe", required=True, help="fuzzaug's variants, logits and batch (npz)")
    c.add_argument("--after", required=True, help="fuzzaug's variables after its steps (npz)")
    a = p.parse_args()
    if a.command == "write-data":
        return write_data(a)
    if a.command == "crosscheck":
        return crosscheck(a)
    out = Twin(recipe(a.config, a.seed, a.strategy)).run()
    print(json.dumps(out) if a.json else "\n".join(f"{k:12} {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
