#!/usr/bin/env python3
"""PyTorch twins of fuzzaug's built-in architectures (host/src/models/), initialised as their
reference definitions are, for tests/tests/init_parity.rs.

Prints one JSON object on stdout: {arch: {state-dict name: {"shape", "mean", "std", "min",
"max", "kurtosis"}}} for every architecture named on the command line. The modules only
reproduce the parameters (names, shapes and init), not the forward passes; their state-dict
names are fuzzaug's VarStore names. BatchNorm's `num_batches_tracked` (which fuzzaug has no
counterpart of) is left out.

    init_stats.py [--channels 3] [--classes 10] [--seed 0] ARCH...
"""
import argparse
import json
import sys
import warnings

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # torch without numpy
import torch  # noqa: E402
from torch import nn  # noqa: E402


def bn(c):
    return nn.BatchNorm2d(c)  # weight 1, bias 0, running mean 0, running var 1


# ---- small-cnn: bench/reference.py's SmallCNN, with fuzzaug's names; PyTorch's defaults. ----
class SmallCNN(nn.Module):
    def __init__(self, channels, classes):
        super().__init__()
        for i, (c_in, c_out) in enumerate([(channels, 32), (32, 64), (64, 128)], 1):
            setattr(self, f"conv{i}", nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False))
            setattr(self, f"bn{i}", bn(c_out))
        self.fc = nn.Linear(128, classes)


# ---- Pre-activation ResNets and wide ResNets: PyTorch's defaults. ----
class PreActBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.bn1 = bn(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn2 = bn(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Conv2d(c_in, c_out, 1, stride, 0, bias=False)


class PreActNetwork(nn.Module):
    def __init__(self, channels, classes, n, widths):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
        c_in = 16
        for stage, width in enumerate(widths):
            blocks = []
            for i in range(n):
                blocks.append(PreActBlock(c_in, width, 2 if stage > 0 and i == 0 else 1))
                c_in = width
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
        self.bn = bn(c_in)
        self.fc = nn.Linear(c_in, classes)


# ---- ResNets: torchvision's definition and ResNet.__init__ init (zero_init_residual=False). ----
class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, c_in, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, width, 3, stride, 1, bias=False)
        self.bn1 = bn(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = bn(width)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, c_in, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, width, 1, 1, 0, bias=False)
        self.bn1 = bn(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = bn(width)
        self.conv3 = nn.Conv2d(width, width * 4, 1, 1, 0, bias=False)
        self.bn3 = bn(width * 4)


class ResNet(nn.Module):
    def __init__(self, channels, classes, block, counts, imagenet_stem):
        super().__init__()
        if imagenet_stem:
            self.conv1 = nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
        else:
            self.conv1 = nn.Conv2d(channels, 64, 3, 1, 1, bias=False)
        self.bn1 = bn(64)
        c_in = 64
        for stage, (count, width) in enumerate(zip(counts, [64, 128, 256, 512])):
            blocks = []
            for i in range(count):
                stride = 2 if stage > 0 and i == 0 else 1
                b = block(c_in, width, stride)
                c_out = width * block.expansion
                if stride != 1 or c_in != c_out:
                    b.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                                 bn(c_out))
                blocks.append(b)
                c_in = c_out
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(c_in, classes)
        # torchvision.models.resnet.ResNet.__init__, word for word.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)


ARCHS = {
    "small-cnn": lambda c, k: SmallCNN(c, k),
    "preact-resnet20": lambda c, k: PreActNetwork(c, k, 3, [16, 32, 64]),
    "preact-resnet32": lambda c, k: PreActNetwork(c, k, 5, [16, 32, 64]),
    "preact-resnet56": lambda c, k: PreActNetwork(c, k, 9, [16, 32, 64]),
    "preact-resnet50": lambda c, k: PreActNetwork(c, k, 8, [16, 32, 64]),
    "resnet18": lambda c, k: ResNet(c, k, BasicBlock, [2, 2, 2, 2], False),
    "resnet50": lambda c, k: ResNet(c, k, Bottleneck, [3, 4, 6, 3], False),
    "resnet50-imagenet-stem": lambda c, k: ResNet(c, k, Bottleneck, [3, 4, 6, 3], True),
    "wrn-28-10": lambda c, k: PreActNetwork(c, k, 4, [160, 320, 640]),
}


def stats(t):
    """The statistics init_parity.rs computes for fuzzaug's variables, in the same way."""
    x = t.detach().to(torch.float64).flatten()
    mean = x.mean()
    std = x.std(unbiased=True) if x.numel() > 1 else torch.tensor(0.0, dtype=torch.float64)
    pop_std = x.std(unbiased=False)
    kurtosis = ((x - mean) / pop_std).pow(4).mean().item() if pop_std > 0 else 0.0
    return {"shape": list(t.shape), "mean": mean.item(), "std": std.item(),
            "min": x.min().item(), "max": x.max().item(), "kurtosis": kurtosis}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("archs", nargs="+", metavar="ARCH")
    args = parser.parse_args()
    unknown = [a for a in args.archs if a not in ARCHS]
    if unknown:
        sys.exit(f"init_stats.py: error: unknown architecture(s) {', '.join(unknown)}; "
                 f"known: {', '.join(ARCHS)}")
    out = {}
    with torch.no_grad():
        for arch in args.archs:
            torch.manual_seed(args.seed)  # each architecture's draw independent of the others
            model = ARCHS[arch](args.channels, args.classes)
            out[arch] = {name: stats(t) for name, t in model.state_dict().items()
                         if not name.endswith("num_batches_tracked")}
            del model
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
