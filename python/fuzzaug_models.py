#!/usr/bin/env python3
"""PyTorch definitions of fuzzaug's built-in architectures, and a loader for its exports.

The modules reproduce the networks of ``host/src/models/`` exactly: the same forward
computation, the same state-dict names (fuzzaug's VarStore paths, e.g. ``conv1.weight``,
``layer1.0.bn1.running_mean``, ``fc.bias``) and the same shapes, so the weights that
``fuzzaug export`` writes load with ``load_state_dict(strict=True)``.

A fuzzaug export is a safetensors file: every variable under its state-dict name (float32;
BatchNorm's ``num_batches_tracked`` as an int64 scalar) and string metadata describing the
network and the data it was trained on (see :func:`load`). The network expects its input
normalised as fuzzaug trains it: ``(x / 255 - mean) / std`` per channel for u8 pixels ``x``;
wrap it in :class:`Normalized` to feed it images on 0..1 instead.

Usage::

    from fuzzaug_models import Normalized, load

    model, meta = load("model.safetensors")             # eval mode, on the CPU
    net = Normalized(model, meta["mean"], meta["std"])  # takes N×C×H×W images on 0..1
    probs = net(images).softmax(1)
    print(meta["classes"][int(probs[0].argmax())])

or, from a shell, ``python fuzzaug_models.py model.safetensors`` to print the metadata and the
parameter count, and ``python fuzzaug_models.py check model.safetensors`` to compare the export's
logits with fuzzaug's on the probe images that ``fuzzaug export --probe N`` writes beside it.

Only ``torch`` is needed; the ``safetensors`` package is used when it is installed, and a small
built-in reader of the format otherwise. ``torchvision`` is needed only by
:func:`torchvision_model`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import struct
import sys
import zipfile
from typing import Any, Callable, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "ARCHS",
    "CHECK_TOLERANCE",
    "FORMAT_VERSION",
    "MIN_INPUT_SIZE",
    "BasicBlock",
    "Bottleneck",
    "Normalized",
    "PreActBlock",
    "PreActResNet",
    "ResNet",
    "SmallCNN",
    "build",
    "check_export",
    "load",
    "probe_path",
    "read_safetensors",
    "torchvision_model",
    "wide_resnet",
]

#: The export format version this module reads (metadata key ``fuzzaug_format``).
FORMAT_VERSION = "1"

#: Every built-in architecture name, in fuzzaug's order (``host/src/models/mod.rs``).
ARCHS: tuple[str, ...] = (
    "small-cnn",
    "preact-resnet20",
    "preact-resnet32",
    "preact-resnet56",
    "preact-resnet50",
    "resnet18",
    "resnet50",
    "resnet50-imagenet-stem",
    "wrn-28-10",
)

#: The smallest input height and width fuzzaug builds each architecture for: the total
#: downsampling factor, and never below 8.
MIN_INPUT_SIZE: dict[str, int] = {arch: 8 for arch in ARCHS}
MIN_INPUT_SIZE["resnet50-imagenet-stem"] = 32

PathLike = Union[str, "os.PathLike[str]"]


# ---------------------------------------------------------------------------------------------
# Layers. Every convolution is bias-free; BatchNorm keeps PyTorch's defaults (eps 1e-5,
# momentum 0.1, weight 1, bias 0), as fuzzaug's does.


def _conv(c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0) -> nn.Conv2d:
    """A bias-free 2-D convolution."""
    return nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False)


# ---------------------------------------------------------------------------------------------
# small-cnn (host/src/models/small_cnn.rs)


class SmallCNN(nn.Module):
    """fuzzaug's ``small-cnn``: three conv3×3-BN-ReLU layers (32, 64, 128 channels), a 2×2
    max-pool after the first two, global average pool, linear. Any input of 8×8 or more.

    State-dict names: ``conv1``, ``bn1``, ``conv2``, ``bn2``, ``conv3``, ``bn3``, ``fc``.
    """

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.conv1 = _conv(in_channels, 32, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = _conv(32, 64, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = _conv(64, 128, 3, 1, 1)
        self.bn3 = nn.BatchNorm2d(128)
        self.fc = nn.Linear(128, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """N×C×H×W (normalised) images to N×classes logits."""
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.conv3(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ---------------------------------------------------------------------------------------------
# Pre-activation ResNets and wide ResNets (host/src/models/preact_resnet.rs, wrn.rs)


class PreActBlock(nn.Module):
    """A pre-activation basic block: BN-ReLU-conv3×3-BN-ReLU-(dropout)-conv3×3 plus a shortcut.

    The shortcut is the identity on the raw input, or, when the stride or the width changes, a
    strided 1×1 convolution (``shortcut``) of the pre-activated input: the first BN-ReLU serves
    both paths, as in He et al. 2016 ("Identity Mappings in Deep Residual Networks").
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = _conv(c_in, c_out, 3, stride, 1)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = _conv(c_out, c_out, 3, 1, 1)
        projects = stride != 1 or c_in != c_out
        self.shortcut: nn.Conv2d | None = _conv(c_in, c_out, 1, stride, 0) if projects else None
        self.dropout = float(dropout)

    def forward(self, x: Tensor) -> Tensor:
        pre = F.relu(self.bn1(x))
        y = F.relu(self.bn2(self.conv1(pre)))
        if self.dropout > 0.0:
            y = F.dropout(y, self.dropout, self.training)
        y = self.conv2(y)
        if self.shortcut is not None:
            return self.shortcut(pre) + y
        return x + y

    def extra_repr(self) -> str:
        return f"dropout={self.dropout}" if self.dropout > 0.0 else ""


class PreActResNet(nn.Module):
    """The pre-activation CIFAR ResNet: conv3×3(C→16); three stages of ``blocks_per_stage``
    :class:`PreActBlock` with ``widths``, stride 2 in the first block of stages 2 and 3; final
    BN-ReLU, global average pool, linear.

    ``preact-resnet{20,32,56,50}`` are depth 6n+2 with n = 3, 5, 9, 8 and widths 16/32/64;
    ``wrn-28-10`` is n = 4 with widths 160/320/640 (see :func:`wide_resnet`).

    State-dict names: ``conv1``, ``layer{1,2,3}.{i}.{bn1,conv1,bn2,conv2,shortcut}``, ``bn``,
    ``fc``.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        blocks_per_stage: int,
        widths: Sequence[int] = (16, 32, 64),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if len(widths) != 3:
            raise ValueError(f"a pre-activation ResNet has three stages, got widths {widths}")
        self.conv1 = _conv(in_channels, 16, 3, 1, 1)
        c_in = 16
        stages = []
        for stage, width in enumerate(widths):
            blocks = []
            for i in range(blocks_per_stage):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(PreActBlock(c_in, width, stride, dropout))
                c_in = width
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.bn = nn.BatchNorm2d(c_in)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """N×C×H×W (normalised) images to N×classes logits."""
        x = self.conv1(x)
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.relu(self.bn(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def wide_resnet(
    in_channels: int, num_classes: int, depth: int = 28, widen: int = 10, dropout: float = 0.0
) -> PreActResNet:
    """WRN-``depth``-``widen`` (Zagoruyko & Komodakis 2016): the pre-activation ResNet with
    (depth − 4)/6 blocks per stage, widths 16·k/32·k/64·k and ``dropout`` between the two convs
    of each block. fuzzaug's ``wrn-28-10`` is the default, without dropout."""
    if depth < 10 or (depth - 4) % 6 != 0:
        raise ValueError(f"a WRN's depth must be 6n+4 (at least 10), got {depth}")
    n = (depth - 4) // 6
    return PreActResNet(in_channels, num_classes, n, (16 * widen, 32 * widen, 64 * widen), dropout)


# ---------------------------------------------------------------------------------------------
# ResNets (host/src/models/resnet.rs): torchvision's definition and names.


class BasicBlock(nn.Module):
    """torchvision's basic block: conv3×3(stride)-BN-ReLU-conv3×3-BN, plus the identity or a
    ``downsample`` (strided 1×1 conv + BN) of the input, then ReLU."""

    expansion = 1

    def __init__(self, c_in: int, width: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv(c_in, width, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = _conv(width, width, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample: nn.Sequential | None = _downsample(c_in, width * self.expansion, stride)

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(identity + y)


class Bottleneck(nn.Module):
    """torchvision's bottleneck (ResNet v1.5): conv1×1-BN-ReLU, conv3×3(stride)-BN-ReLU,
    conv1×1(×4)-BN, plus the identity or a ``downsample`` of the input, then ReLU."""

    expansion = 4

    def __init__(self, c_in: int, width: int, stride: int = 1) -> None:
        super().__init__()
        c_out = width * self.expansion
        self.conv1 = _conv(c_in, width, 1, 1, 0)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = _conv(width, width, 3, stride, 1)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = _conv(width, c_out, 1, 1, 0)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.downsample: nn.Sequential | None = _downsample(c_in, c_out, stride)

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(identity + y)


def _downsample(c_in: int, c_out: int, stride: int) -> nn.Sequential | None:
    """The projection shortcut (``downsample.0`` conv, ``downsample.1`` BN) when the shape
    changes, else None."""
    if stride == 1 and c_in == c_out:
        return None
    return nn.Sequential(_conv(c_in, c_out, 1, stride, 0), nn.BatchNorm2d(c_out))


class ResNet(nn.Module):
    """A ResNet with torchvision's names: stem, four stages of ``layers`` blocks with widths
    64/128/256/512 (stride 2 in the first block of stages 2–4), global average pool, linear.

    With ``imagenet_stem`` the stem is torchvision's (conv7×7 stride 2, BN, ReLU, max-pool 3×3
    stride 2 padding 1), and ``ResNet(3, k, Bottleneck, [3, 4, 6, 3], True)`` is exactly
    ``torchvision.models.resnet50(num_classes=k)``. Otherwise it is the CIFAR stem: conv3×3
    stride 1, BN, ReLU and no max-pool. Convolutions are initialised as torchvision's (Kaiming
    normal, fan-out), as fuzzaug initialises them.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        block: type[BasicBlock | Bottleneck],
        layers: Sequence[int],
        imagenet_stem: bool = False,
    ) -> None:
        super().__init__()
        if len(layers) != 4:
            raise ValueError(f"a ResNet has four stages, got {list(layers)} blocks")
        self.imagenet_stem = bool(imagenet_stem)
        if self.imagenet_stem:
            self.conv1 = _conv(in_channels, 64, 7, 2, 3)
        else:
            self.conv1 = _conv(in_channels, 64, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool: nn.Module = (
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            if self.imagenet_stem
            else nn.Identity()
        )
        c_in = 64
        stages = []
        for stage, (count, width) in enumerate(zip(layers, (64, 128, 256, 512))):
            blocks: list[nn.Module] = []
            for i in range(count):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(block(c_in, width, stride))
                c_in = width * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(c_in, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        """N×C×H×W (normalised) images to N×classes logits."""
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ---------------------------------------------------------------------------------------------
# Building by name

_BUILDERS: dict[str, Callable[[int, int], nn.Module]] = {
    "small-cnn": SmallCNN,
    "preact-resnet20": lambda c, k: PreActResNet(c, k, 3),
    "preact-resnet32": lambda c, k: PreActResNet(c, k, 5),
    "preact-resnet56": lambda c, k: PreActResNet(c, k, 9),
    # 6·8+2 = 50: the reference study's "PreAct-ResNet50" (≈0.76 M parameters), not a
    # bottleneck network.
    "preact-resnet50": lambda c, k: PreActResNet(c, k, 8),
    "resnet18": lambda c, k: ResNet(c, k, BasicBlock, (2, 2, 2, 2), imagenet_stem=False),
    "resnet50": lambda c, k: ResNet(c, k, Bottleneck, (3, 4, 6, 3), imagenet_stem=False),
    "resnet50-imagenet-stem": lambda c, k: ResNet(
        c, k, Bottleneck, (3, 4, 6, 3), imagenet_stem=True
    ),
    "wrn-28-10": lambda c, k: wide_resnet(c, k, 28, 10, 0.0),
}
assert tuple(_BUILDERS) == ARCHS


def _unknown_arch(arch: str, valid: Sequence[str]) -> ValueError:
    near = difflib.get_close_matches(arch, valid, n=1)
    hint = f"did you mean {near[0]!r}? " if near else ""
    return ValueError(
        f"unknown architecture {arch!r}; {hint}valid architectures: {', '.join(valid)}"
    )


def _check_spec(arch: str, in_channels: int, num_classes: int) -> None:
    for what, value in (("in_channels", in_channels), ("num_classes", num_classes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{arch}: {what} must be a positive integer, got {value!r}")


def build(arch: str, in_channels: int, num_classes: int) -> nn.Module:
    """The fuzzaug architecture ``arch`` (one of :data:`ARCHS`) for ``in_channels``-channel
    images and ``num_classes`` classes, freshly initialised as fuzzaug initialises it, in
    training mode. Its state-dict names and shapes are those of fuzzaug's exports.

    Raises ValueError for an unknown ``arch`` (naming the valid ones) or a non-positive count.
    """
    if arch not in _BUILDERS:
        raise _unknown_arch(arch, ARCHS)
    _check_spec(arch, in_channels, num_classes)
    return _BUILDERS[arch](in_channels, num_classes)


def torchvision_model(arch: str, in_channels: int = 3, num_classes: int = 1000) -> nn.Module:
    """torchvision's ResNet matching fuzzaug's ``resnet18``, ``resnet50`` or
    ``resnet50-imagenet-stem``, whose state dict is the same as :func:`build`'s (and so as the
    export's). The CIFAR-stem ones get conv1 replaced by a 3×3 stride-1 conv and the max-pool by
    ``nn.Identity``; conv1 takes ``in_channels`` channels. Needs torchvision; no weights are
    downloaded.
    """
    import torchvision.models as tvm  # only this function needs torchvision

    constructors = {
        "resnet18": (tvm.resnet18, False),
        "resnet50": (tvm.resnet50, False),
        "resnet50-imagenet-stem": (tvm.resnet50, True),
    }
    if arch not in constructors:
        raise _unknown_arch(arch, list(constructors))
    _check_spec(arch, in_channels, num_classes)
    constructor, imagenet_stem = constructors[arch]
    model = constructor(weights=None, num_classes=num_classes)
    if not imagenet_stem:
        model.conv1 = _conv(in_channels, 64, 3, 1, 1)
        model.maxpool = nn.Identity()
    elif in_channels != 3:
        model.conv1 = _conv(in_channels, 64, 7, 2, 3)
    # The replacement keeps torchvision's init of the conv it replaces.
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    return model


# ---------------------------------------------------------------------------------------------
# Reading safetensors

# safetensors dtype name -> (torch dtype, bytes per element)
_DTYPES: dict[str, tuple[torch.dtype, int]] = {
    "F64": (torch.float64, 8),
    "F32": (torch.float32, 4),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
    "I64": (torch.int64, 8),
    "I32": (torch.int32, 4),
    "I16": (torch.int16, 2),
    "I8": (torch.int8, 1),
    "U8": (torch.uint8, 1),
    "BOOL": (torch.bool, 1),
}

# The safetensors package refuses headers above 100 MB; so does the built-in reader.
_MAX_HEADER = 100_000_000


def read_safetensors(path: PathLike) -> tuple[dict[str, Tensor], dict[str, str]]:
    """The tensors (on the CPU) and the string metadata (``__metadata__``, empty if absent) of
    the safetensors file ``path``.

    Uses the ``safetensors`` package when it is importable, and otherwise a built-in reader of
    the format (F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL tensors). Both give the
    same result. Raises OSError if the file cannot be read, and ValueError naming the file if
    it is truncated or malformed.
    """
    try:
        from safetensors import SafetensorError, safe_open
        from safetensors.torch import load_file
    except ImportError:
        return _read_safetensors_builtin(path)
    name = os.fspath(path)
    with open(name, "rb"):  # a missing or unreadable file is an OSError, as in the fallback
        pass
    try:
        tensors = load_file(name, device="cpu")
        with safe_open(name, framework="pt") as f:
            metadata = f.metadata()
    except SafetensorError as e:
        raise ValueError(f"{name}: not a readable safetensors file ({e})") from e
    return tensors, dict(metadata or {})


def _read_safetensors_builtin(path: PathLike) -> tuple[dict[str, Tensor], dict[str, str]]:
    """The built-in reader behind :func:`read_safetensors`: 8-byte little-endian header
    length, a JSON header mapping each tensor's name to its dtype, shape and data_offsets
    (relative to the data section, which follows the header) plus an optional
    ``__metadata__`` string map, then the raw little-endian tensor data."""
    name = os.fspath(path)
    with open(name, "rb") as f:
        raw = f.read()

    def bad(why: str) -> ValueError:
        return ValueError(f"{name}: not a valid safetensors file: {why}")

    size = len(raw)
    if size < 8:
        raise bad(f"truncated: {size} bytes, shorter than the 8-byte header length")
    (header_len,) = struct.unpack("<Q", raw[:8])
    if header_len > _MAX_HEADER:
        raise bad(f"the header length {header_len} is over the {_MAX_HEADER}-byte limit")
    if 8 + header_len > size:
        raise bad(
            f"truncated: the header needs {header_len} bytes after the first 8, "
            f"but the file has {size - 8}"
        )
    try:
        header = json.loads(raw[8 : 8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise bad(f"the header is not UTF-8 JSON ({e})") from e
    if not isinstance(header, dict):
        raise bad("the header is not a JSON object")

    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise bad("__metadata__ is not a map of strings to strings")

    data = memoryview(raw)[8 + header_len :]
    entries = []
    for key, info in header.items():
        if not isinstance(info, dict):
            raise bad(f"the entry of tensor {key!r} is not an object")
        dtype_name, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype_name not in _DTYPES:
            raise bad(
                f"tensor {key!r} has dtype {dtype_name!r}; this reader supports "
                f"{', '.join(_DTYPES)} (install the safetensors package for others)"
            )
        if not isinstance(shape, list) or not all(_is_index(d) for d in shape):
            raise bad(f"tensor {key!r} has shape {shape!r}, not a list of non-negative integers")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_index(o) for o in offsets)
            or offsets[0] > offsets[1]
        ):
            raise bad(f"tensor {key!r} has data_offsets {offsets!r}, not [begin, end]")
        dtype, itemsize = _DTYPES[dtype_name]
        begin, end = offsets
        if end - begin != math.prod(shape) * itemsize:
            raise bad(
                f"tensor {key!r} ({dtype_name} {shape}) should take "
                f"{math.prod(shape) * itemsize} bytes, but data_offsets span {end - begin}"
            )
        if end > len(data):
            raise bad(
                f"truncated: tensor {key!r} ends at byte {end} of the data section, "
                f"but the file holds {len(data)} data bytes"
            )
        entries.append((begin, end, key, dtype, itemsize, shape))

    # As the safetensors package, require the tensors to tile the data section exactly.
    entries.sort(key=lambda e: (e[0], e[1]))
    at = 0
    for begin, end, key, *_ in entries:
        if begin != at:
            raise bad(
                f"tensor {key!r} starts at data byte {begin}, expected {at} "
                "(tensors overlap or leave gaps)"
            )
        at = end
    if at != len(data):
        raise bad(f"{len(data) - at} bytes follow the last tensor's data")

    tensors: dict[str, Tensor] = {}
    for begin, end, key, dtype, itemsize, shape in entries:
        if end == begin:
            t = torch.empty(shape, dtype=dtype)
        else:
            # A copy of each tensor's bytes: aligned, writable and independent of `raw`.
            t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype)
            if sys.byteorder == "big" and itemsize > 1:
                t = _byteswap(t)  # the data is little-endian
            t = t.reshape(shape)
        tensors[key] = t
    # In data-offset order, as the safetensors package returns them.
    return tensors, dict(metadata)


def _byteswap(t: Tensor) -> Tensor:
    """The 1-D tensor ``t`` with the bytes of every element reversed."""
    size = t.element_size()
    return t.view(torch.uint8).view(-1, size).flip(1).reshape(-1).view(t.dtype)


def _is_index(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


# ---------------------------------------------------------------------------------------------
# Loading a fuzzaug export

_INT_KEYS = ("in_channels", "height", "width", "num_classes", "epoch")
_FLOAT_KEYS = ("test_acc", "robust_acc")
_REQUIRED = ("arch", "in_channels", "num_classes")
_KEY_ORDER = (
    "fuzzaug_format",
    "arch",
    "in_channels",
    "height",
    "width",
    "num_classes",
    "classes",
    "mean",
    "std",
    "fuzzaug_version",
    "epoch",
    "test_acc",
    "robust_acc",
    "robust_grid",
)


def _parse_metadata(name: str, raw: dict[str, str]) -> dict[str, Any]:
    """The export's string metadata, decoded: integers, accuracies (None for ``"null"``),
    ``classes`` (list of str) and ``mean``/``std`` (lists of float) from JSON; other keys
    (``arch``, ``fuzzaug_version``, ``robust_grid``, …) stay strings."""
    fmt = raw.get("fuzzaug_format")
    if fmt is None:
        raise ValueError(f"{name}: not a fuzzaug export (no `fuzzaug_format` in its metadata)")
    if fmt != FORMAT_VERSION:
        raise ValueError(
            f"{name}: fuzzaug export format {fmt!r}; this module reads format {FORMAT_VERSION!r}"
        )
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise ValueError(f"{name}: the metadata lacks {', '.join(missing)}")

    # The documented keys in their documented order, then any others by name (safetensors keeps
    # no order of its own).
    order = [k for k in _KEY_ORDER if k in raw] + sorted(k for k in raw if k not in _KEY_ORDER)
    meta: dict[str, Any] = {k: raw[k] for k in order}

    def fail(key: str, what: str) -> ValueError:
        return ValueError(f"{name}: metadata `{key}` is {raw[key]!r}, not {what}")

    for key in _INT_KEYS:
        if key in raw:
            try:
                meta[key] = int(raw[key])
            except ValueError:
                raise fail(key, "an integer") from None
    for key in _FLOAT_KEYS:
        if key in raw:
            text = raw[key].strip()
            if text.lower() in ("null", "none", ""):
                meta[key] = None
                continue
            try:
                meta[key] = float(text)
            except ValueError:
                raise fail(key, "a number or null") from None
    for key, is_item, what in (
        ("classes", _is_str, "a JSON array of strings"),
        ("mean", _is_number, "a JSON array of numbers"),
        ("std", _is_number, "a JSON array of numbers"),
    ):
        if key in raw:
            try:
                value = json.loads(raw[key])
            except ValueError:
                raise fail(key, what) from None
            if not isinstance(value, list) or not all(is_item(v) for v in value):
                raise fail(key, what)
            meta[key] = [float(v) for v in value] if key != "classes" else value
    channels = meta["in_channels"]
    for key in ("mean", "std"):
        if key in meta and len(meta[key]) != channels:
            raise ValueError(
                f"{name}: metadata `{key}` has {len(meta[key])} value(s) for {channels} channel(s)"
            )
    if "classes" in meta and len(meta["classes"]) != meta["num_classes"]:
        raise ValueError(
            f"{name}: metadata `classes` names {len(meta['classes'])} class(es), "
            f"but num_classes is {meta['num_classes']}"
        )
    return meta


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def load(path: PathLike, device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """The network of the fuzzaug export ``path`` and its metadata.

    Reads the file (:func:`read_safetensors`), builds the architecture its metadata names
    (:func:`build`), loads the weights with ``strict=True``, moves the network to ``device``
    and puts it in eval mode. The network takes normalised images (see :class:`Normalized`).

    The metadata comes back decoded: ``fuzzaug_format`` (str), ``arch`` (str), ``in_channels``,
    ``height``, ``width``, ``num_classes``, ``epoch`` (int), ``classes`` (list of str), ``mean``
    and ``std`` (lists of float, per channel, in 0..1 units), ``test_acc`` and ``robust_acc``
    (float, or None when not measured), ``fuzzaug_version`` and ``robust_grid`` (str); any
    other key stays a string.

    Raises OSError if the file cannot be read, and ValueError if it is not a fuzzaug export
    this module reads or its weights do not fit the architecture.
    """
    name = os.fspath(path)
    tensors, raw = read_safetensors(name)
    meta = _parse_metadata(name, raw)
    try:
        model = build(meta["arch"], meta["in_channels"], meta["num_classes"])
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from e
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        raise ValueError(f"{name}: the weights do not fit {meta['arch']}: {e}") from e
    return model.to(device).eval(), meta


class Normalized(nn.Module):
    """``model`` behind fuzzaug's input normalisation: takes N×C×H×W float images on 0..1 and
    feeds ``(x - mean) / std`` (per channel) to ``model``. For u8 pixels, pass
    ``x.float() / 255``. ``mean`` and ``std`` are non-persistent buffers: the state dict is
    ``model``'s, under ``model.``.
    """

    def __init__(
        self, model: nn.Module, mean: Sequence[float] | Tensor, std: Sequence[float] | Tensor
    ) -> None:
        super().__init__()
        m = torch.as_tensor(mean, dtype=torch.float32).flatten()
        s = torch.as_tensor(std, dtype=torch.float32).flatten()
        if m.numel() == 0 or m.shape != s.shape:
            raise ValueError(
                f"mean and std need one value per channel each, got {m.numel()} and {s.numel()}"
            )
        if not bool((s > 0).all()):
            raise ValueError(f"std must be positive, got {s.tolist()}")
        self.model = model
        self.channels = m.numel()
        self.mean: Tensor
        self.std: Tensor
        self.register_buffer("mean", m.view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", s.view(1, -1, 1, 1), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """N×C×H×W images on 0..1 to the model's output."""
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f"expected N×{self.channels}×H×W images, got shape {list(x.shape)}")
        return self.model((x - self.mean) / self.std)


# ---------------------------------------------------------------------------------------------
# Checking an export against fuzzaug's own logits

#: :func:`check_export` passes when every logit is within this fraction of the largest
#: |logit| (at least 1) of fuzzaug's: float32 rounding, not a different computation.
CHECK_TOLERANCE = 1e-4


def probe_path(path: PathLike) -> str:
    """Where ``fuzzaug export --probe`` puts the probe of the export ``path``:
    ``<stem>.probe.safetensors`` beside it."""
    name = os.fspath(path)
    folder, base = os.path.split(name)
    stem = (
        base[: -len(".safetensors")] if base.endswith(".safetensors") else os.path.splitext(base)[0]
    )
    return os.path.join(folder, f"{stem or 'model'}.probe.safetensors")


def check_export(
    path: PathLike, probe: PathLike | None = None, device: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Checks the export ``path`` against the probe that ``fuzzaug export --probe N`` wrote
    beside it (or ``probe``): the first N test images (u8, N×C×H×W), their ``labels`` and the
    ``logits`` fuzzaug's own network gave them. Loads the export (a safetensors file with
    :func:`load` behind :class:`Normalized`, or a TorchScript module with ``torch.jit.load``
    alone), feeds it the images as ``x / 255`` and compares.

    Returns ``images``, ``max_abs_diff`` (the largest |logit difference|), ``scale`` (the largest
    |logit| of fuzzaug's, at least 1), ``tolerance`` (:data:`CHECK_TOLERANCE` × scale),
    ``same_predictions`` (images whose argmax agrees), ``fuzzaug_accuracy``,
    ``pytorch_accuracy`` and ``ok`` (max_abs_diff within tolerance). Raises ValueError for a
    probe that does not fit the export.
    """
    probe_name = os.fspath(probe) if probe is not None else probe_path(path)
    tensors, _ = read_safetensors(probe_name)
    missing = [k for k in ("images", "labels", "logits") if k not in tensors]
    if missing:
        raise ValueError(f"{probe_name}: not a fuzzaug probe (no {', '.join(missing)})")
    images, labels, expected = tensors["images"], tensors["labels"], tensors["logits"].float()
    n = images.shape[0] if images.dim() == 4 else -1
    net: nn.Module
    if zipfile.is_zipfile(os.fspath(path)):
        # `--format torchscript`: self-contained, normalisation included.
        net = torch.jit.load(os.fspath(path), map_location=device).eval()
        what = "TorchScript module"
        channels, classes = (images.shape[1] if n > 0 else -1), expected.shape[-1]
    else:
        model, meta = load(path, device)
        net = Normalized(model, meta["mean"], meta["std"]).to(device)
        what = f"{meta['in_channels']}-channel, {meta['num_classes']}-class {meta['arch']}"
        channels, classes = meta["in_channels"], meta["num_classes"]
    if (
        n < 1
        or images.shape[1] != channels
        or tuple(labels.shape) != (n,)
        or tuple(expected.shape) != (n, classes)
    ):
        raise ValueError(
            f"{probe_name}: images {list(images.shape)}, labels {list(labels.shape)} and logits "
            f"{list(expected.shape)} do not fit the export's {what}"
        )
    outputs = []
    with torch.no_grad():
        for start in range(0, n, 256):
            batch = images[start : start + 256].to(device=device, dtype=torch.float32) / 255
            outputs.append(net(batch).float().cpu())
    logits = torch.cat(outputs)
    max_abs_diff = float((logits - expected).abs().max())
    scale = max(1.0, float(expected.abs().max()))
    labels = labels.long()
    return {
        "images": n,
        "max_abs_diff": max_abs_diff,
        "scale": scale,
        "tolerance": CHECK_TOLERANCE * scale,
        "same_predictions": int((logits.argmax(1) == expected.argmax(1)).sum()),
        "fuzzaug_accuracy": float((expected.argmax(1) == labels).double().mean()),
        "pytorch_accuracy": float((logits.argmax(1) == labels).double().mean()),
        "ok": max_abs_diff <= CHECK_TOLERANCE * scale,
    }


# ---------------------------------------------------------------------------------------------
# Command line


def _info(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="fuzzaug_models.py",
        description="Print the metadata and parameter count of a fuzzaug export "
        "(loading its weights into the architecture it names). "
        "`fuzzaug_models.py check FILE` compares the export with fuzzaug's logits instead.",
    )
    parser.add_argument(
        "file", metavar="FILE.safetensors", help="a file written by `fuzzaug export`"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = parser.parse_args(argv)
    try:
        model, meta = load(args.file)
    except (OSError, ValueError) as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 1
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if args.json:
        print(json.dumps({"file": args.file, "metadata": meta, "parameters": params}))
        return 0
    rows = [("file", args.file)]
    rows += [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in meta.items()]
    rows.append(("parameters", f"{params:,}"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


def _check(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="fuzzaug_models.py check",
        description="Load a fuzzaug export and compare its logits on the probe images with the "
        "logits fuzzaug gave them (`fuzzaug export --probe N`). Exits 1 when they differ.",
    )
    parser.add_argument(
        "file", metavar="FILE.safetensors", help="a file written by `fuzzaug export`"
    )
    parser.add_argument(
        "probe",
        metavar="PROBE.safetensors",
        nargs="?",
        help="the probe (default: FILE's <stem>.probe.safetensors)",
    )
    parser.add_argument("--device", default="cpu", help="where to run the model (default: cpu)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = parser.parse_args(argv)
    try:
        result = check_export(args.file, args.probe, args.device)
    except (OSError, ValueError) as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
    else:
        verdict = "OK" if result["ok"] else "MISMATCH"
        print(
            f"{verdict}: {result['images']} probe images, max |logit difference| "
            f"{result['max_abs_diff']:.3g} (tolerance {result['tolerance']:.3g}), "
            f"{result['same_predictions']}/{result['images']} same predictions, accuracy "
            f"{result['pytorch_accuracy']:.4f} here, {result['fuzzaug_accuracy']:.4f} in fuzzaug"
        )
    return 0 if result["ok"] else 1


def _main(argv: list[str] | None = None) -> int:
    """``fuzzaug_models.py FILE.safetensors`` prints the export's metadata and parameter count;
    ``fuzzaug_models.py check FILE.safetensors [PROBE.safetensors]`` checks it against
    fuzzaug's logits."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["check"]:
        return _check(args[1:])
    return _info(args)


if __name__ == "__main__":
    sys.exit(_main())
