#!/usr/bin/env python3
"""PyTorch reference for `fuzzaug bench`: the same measurements, written as a PyTorch user would.

Run with the provisioned PyTorch 2.11.0 Python (`make bench` finds it), e.g.
    ~/.cache/fuzzaug/torch-2.11.0/bin/python bench/reference.py --json

Measures, after warm-up, medians over repeats:
  - augment: a batch of geometric + photometric chromosomes (the six genes of the study) applied
    the batched way (one affine_grid + grid_sample, one fused gain/bias), and the reference
    study's way: one image at a time through torchvision's functional `affine`;
  - score: no-grad forward in eval mode, per-sample cross-entropy and argmax, images/s;
  - train: forward, cross-entropy, backward, optimiser step, images/s;
  - one epoch of `standard`, `random` and `w10` (worst of k, batched scoring) on random images of
    the benchmarked shape, each as a ratio to `standard`.
Prints the keys of `fuzzaug bench --json` (plus `augment_per_image_images_per_second`).
"""
import argparse
import itertools
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# The six genes of the study: name -> (lo, hi).
GENES = {
    "rotation": (-30.0, 30.0),
    "translate_x": (-3.0, 3.0),
    "translate_y": (-3.0, 3.0),
    "shear": (-0.1, 0.1),
    "zoom": (0.9, 1.1),
    "brightness": (-32.0, 32.0),
    "contrast": (0.8, 1.2),
}


class SmallCNN(nn.Module):
    """The twin of fuzzaug's `small-cnn` (host/src/models/small_cnn.rs)."""

    def __init__(self, channels, classes):
        super().__init__()

        def block(c_in, c_out):
            return nn.Sequential(nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False),
                                 nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))

        self.block1 = block(channels, 32)
        self.block2 = block(32, 64)
        self.block3 = block(64, 128)
        self.fc = nn.Linear(128, classes)

    def forward(self, x):
        x = F.max_pool2d(self.block1(x), 2)
        x = F.max_pool2d(self.block2(x), 2)
        x = self.block3(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


MODELS = {"small-cnn": SmallCNN}


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fns, device, warmup, repeats):
    """Median seconds of each of `fns`, run in `repeats` interleaved rounds after `warmup`
    untimed rounds (as `fuzzaug bench` does), so a slow spell of the machine hits them alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    sync(device)
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, t in zip(fns, times):
            start = time.perf_counter()
            fn()
            sync(device)
            t.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def random_chromosomes(n, device, gen):
    """n×7 genes, uniform in each range."""
    lo = torch.tensor([r[0] for r in GENES.values()], device=device)
    hi = torch.tensor([r[1] for r in GENES.values()], device=device)
    u = torch.rand(n, len(GENES), generator=gen, device="cpu").to(device)
    return lo + u * (hi - lo)


def augment_batched(images, genes):
    """All geometric genes as one affine map per image, one grid_sample; photometric genes as
    one gain and bias; clamp to 0..255. images: u8 N×C×H×W; returns float 0..255."""
    x = images.float()
    n, _, h, w = x.shape
    rot = torch.deg2rad(genes[:, 0])
    tx, ty, shear, zoom = genes[:, 1], genes[:, 2], genes[:, 3], genes[:, 4]
    cos, sin = torch.cos(rot), torch.sin(rot)
    # forward map in centred pixels: translate ∘ rotate ∘ shear ∘ zoom
    a = zoom * cos
    b = zoom * (cos * shear - sin)
    d = zoom * sin
    e = zoom * (sin * shear + cos)
    det = a * e - b * d
    ia, ib, id_, ie = e / det, -b / det, -d / det, a / det
    ic = -(ia * tx + ib * ty)
    if_ = -(id_ * tx + ie * ty)
    theta = torch.stack([ia, ib * h / w, 2 * ic / w, id_ * w / h, ie, 2 * if_ / h], 1).view(n, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    gain = genes[:, 6].view(n, 1, 1, 1)
    bias = (genes[:, 5] + 127.5 * (1 - genes[:, 6])).view(n, 1, 1, 1)
    return (x * gain + bias).clamp_(0, 255)


def augment_per_image(images, genes):
    """The reference study's way: one image at a time through torchvision's functional affine,
    then brightness and contrast."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as TF

    out = []
    g = genes.tolist()
    for img, (rot, tx, ty, shear, zoom, bright, contrast) in zip(images.float(), g):
        img = TF.affine(img, angle=rot, translate=[round(tx), round(ty)], scale=zoom,
                        shear=[math.degrees(math.atan(shear)), 0.0],
                        interpolation=InterpolationMode.BILINEAR)
        out.append(((img - 127.5) * contrast + 127.5 + bright).clamp_(0, 255))
    return torch.stack(out)


class Bench:
    def __init__(self, args, device):
        self.args, self.device = args, device
        self.gen = torch.Generator().manual_seed(args.seed)
        torch.manual_seed(args.seed)
        c, s, k = args.channels, args.size, args.classes
        self.images = torch.randint(0, 256, (args.epoch_images, c, s, s), dtype=torch.uint8,
                                    generator=self.gen).to(device)
        self.labels = torch.randint(0, k, (args.epoch_images,), generator=self.gen).to(device)
        self.mean = torch.full((1, c, 1, 1), 127.5, device=device)
        self.std = torch.full((1, c, 1, 1), 64.0, device=device)
        self.pass_size = 128 if device.type == "cpu" else 4096
        self.model = None

    def fresh_model(self):
        torch.manual_seed(self.args.seed)
        model = MODELS[self.args.model](self.args.channels, self.args.classes).to(self.device)
        if self.args.channels_last:
            model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True,
                              weight_decay=5e-4)
        return model, opt

    def prepare(self, x):
        x = (x - self.mean) / self.std
        return x.contiguous(memory_format=torch.channels_last) if self.args.channels_last else x

    def autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.args.bf16)

    def train_step(self, model, opt, x, y):
        with self.autocast():
            loss = F.cross_entropy(model(self.prepare(x)).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    @torch.no_grad()
    def grid(self, model, n):
        """Robust evaluation of images 0..n: every {lo, identity, hi} chromosome of the seven
        genes built and classified, in passes of `pass_size`; returns the variants done."""
        identity = {"rotation": 0.0, "translate_x": 0.0, "translate_y": 0.0, "shear": 0.0,
                    "zoom": 1.0, "brightness": 0.0, "contrast": 1.0}
        axes = [(lo, identity[g], hi) for g, (lo, hi) in GENES.items()]
        grid = torch.tensor(list(itertools.product(*axes)), device=self.device)
        model.eval()
        for i in range(n):
            for s in range(0, len(grid), self.pass_size):
                g = grid[s:s + self.pass_size]
                x = augment_batched(self.images[i:i + 1].expand(len(g), -1, -1, -1), g)
                with self.autocast():
                    logits = model(self.prepare(x)).float()
                (logits.argmax(1) == self.labels[i]).sum().item()
        model.train()
        return n * len(grid)

    @torch.no_grad()
    def score(self, model, x, y):
        """Per-sample loss and correctness in passes of `pass_size`, batch-norm in eval mode."""
        model.eval()
        losses, correct = [], []
        for i in range(0, len(x), self.pass_size):
            with self.autocast():
                logits = model(self.prepare(x[i:i + self.pass_size])).float()
            losses.append(F.cross_entropy(logits, y[i:i + self.pass_size], reduction="none"))
            correct.append(logits.argmax(1) == y[i:i + self.pass_size])
        model.train()
        return torch.cat(losses), torch.cat(correct)

    def epoch(self, strategy, model, opt):
        n, b, k = self.args.epoch_images, self.args.batch_size, self.args.k
        order = torch.randperm(n, generator=self.gen).to(self.device)
        for i in range(0, n, b):
            idx = order[i:i + b]
            x, y = self.images[idx], self.labels[idx]
            if strategy == "standard":
                x = x.float()
            elif strategy == "random":
                x = augment_batched(x, random_chromosomes(len(idx), self.device, self.gen))
            elif strategy == "w10":
                genes = random_chromosomes(len(idx) * k, self.device, self.gen)
                owners = idx.repeat_interleave(k)
                loss, _ = self.score(model, augment_batched(self.images[owners], genes),
                                     self.labels[owners])
                worst = loss.view(-1, k).argmax(1) + torch.arange(len(idx), device=self.device) * k
                x = augment_batched(x, genes[worst])
            self.train_step(model, opt, x, y)

    def run(self):
        a, dev = self.args, self.device
        b = a.batch_size
        x, y = self.images[:b], self.labels[:b]
        genes = random_chromosomes(b, dev, self.gen)
        out = {"device": str(dev), "model": a.model, "batch_size": b, "score_pass": self.pass_size,
               "threads": torch.get_num_threads(), "torch": torch.__version__,
               "precision": "bf16" if a.bf16 else "fp32", "channels_last": a.channels_last}
        model, opt = self.fresh_model()
        sx = self.images[:self.pass_size].float()
        sy = self.labels[:self.pass_size]
        xf = x.float()
        augment, score, train = timed([lambda: augment_batched(x, genes),
                                       lambda: self.score(model, sx, sy),
                                       lambda: self.train_step(model, opt, xf, y)],
                                      dev, 3, a.repeats)
        out["augment_images_per_second"] = b / augment
        out["score_images_per_second"] = len(sx) / score
        out["train_images_per_second"] = b / train
        grid_images = max(1, 2048 // 3 ** len(GENES))
        [grid] = timed([lambda: self.grid(model, grid_images)], dev, 1, a.repeats)
        out["grid_variants_per_second"] = grid_images * 3 ** len(GENES) / grid
        few = min(b, a.per_image)
        [per_image] = timed([lambda: augment_per_image(x[:few], genes[:few])], dev, 1,
                            max(3, a.repeats // 4))
        out["augment_per_image_images_per_second"] = few / per_image
        strategies = ["standard", "random", "w10"]
        sessions = {s: self.fresh_model() for s in strategies}
        for s in strategies:  # warm-up epoch
            self.epoch(s, *sessions[s])
        times = {s: [] for s in strategies}
        for _ in range(a.epoch_repeats):  # interleaved, so slow spells hit every strategy
            for s in strategies:
                sync(dev)
                start = time.perf_counter()
                self.epoch(s, *sessions[s])
                sync(dev)
                times[s].append(time.perf_counter() - start)
        base = statistics.median(times["standard"])
        out["epoch_seconds"] = {s: statistics.median(t) for s, t in times.items()}
        out["epoch_ratio"] = {s: statistics.median(t) / base for s, t in times.items()}
        out["candidates_per_image"] = {"standard": 0, "random": 0, "w10": a.k}
        return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--model", default="small-cnn", choices=sorted(MODELS))
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--repeats", type=int, default=20, help="timed repeats of each step")
    p.add_argument("--epoch-repeats", type=int, default=3, help="timed epochs per strategy")
    p.add_argument("--epoch-images", type=int, default=1000)
    p.add_argument("--k", type=int, default=10, help="candidates per image of w10")
    p.add_argument("--per-image", type=int, default=64, help="images through the per-image loop")
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=True,
                   help="NHWC layout for the network (fuzzaug's default); --no-channels-last: NCHW")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast for training and scoring")
    p.add_argument("--threads", type=int, default=0, help="intra-op threads; 0 = PyTorch's default")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    try:
        device = torch.device(a.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device `{a.device}`: CUDA is not available to this PyTorch")
    except (RuntimeError, ValueError) as e:
        sys.exit(f"reference.py: error: {e}")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    out = Bench(a, device).run()
    if a.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:40} {value}")


if __name__ == "__main__":
    main()
