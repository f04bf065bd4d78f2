#!/bin/bash
# The measurements that need a GPU, as one script for a short loan of a GPU machine: build here
# in release mode, copy the `fuzzaug` binary and the plugin .so files into one folder, carry it
# to the GPU machine and run
#   GPU_BIN=FOLDER LD_LIBRARY_PATH=<torch/lib of that machine's Python> bash scripts/gpu-checks.sh
# Everything it measures is written to $OUT (or ./gpu-checks) as JSON, one file per step, with
# the card's name in each bench report (`gpu`) and in nvidia-smi's log.
#
#   1. `fuzzaug --version` (the CUDA devices it sees).
#   2. ResNet-50 (CIFAR stem, then ImageNet stem) in bf16, channels-last, on CIFAR-sized shapes
#      images: one timed epoch per strategy and the projection of the published 200-epoch,
#      50,000-image run (`fuzzaug bench --project-images 50000`), with `nvidia-smi dmon`
#      sampling the GPU's utilisation meanwhile.
#   3. The 2,187-point grid (3 points per gene, 7 genes) over 10,000 CIFAR-sized test images for
#      `resnet18` in bf16, without early exit (`fuzzaug eval --no-early-exit`), timed.
#
# GPU_DEVICE (default cuda), GPU_TRAIN (training images per bench epoch, default 10000) and
# GPU_TEST (test images of the grid, default 10000) make it small enough to try on a CPU:
#   GPU_BIN=target/release GPU_DEVICE=cpu GPU_TRAIN=128 GPU_TEST=16 bash scripts/gpu-checks.sh
set -euo pipefail

bin=${GPU_BIN:?GPU_BIN: the folder holding fuzzaug and the plugin .so files}
device=${GPU_DEVICE:-cuda}
train=${GPU_TRAIN:-10000}
test=${GPU_TEST:-10000}
out=${OUT:-gpu-checks}
fuzzaug=$bin/fuzzaug
[[ -x $fuzzaug ]] || { echo "gpu-checks: no executable $fuzzaug" >&2; exit 1; }
export FUZZAUG_PLUGIN_PATH
FUZZAUG_PLUGIN_PATH=$(cd "$bin" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"; [[ -n ${dmon:-} ]] && kill "$dmon" 2>/dev/null || true' EXIT

step() { echo "gpu-checks: $*" >&2; }

step "version"
"$fuzzaug" --version | tee "$out/version.txt"

if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.csv"
    nvidia-smi dmon -s u -d 1 > "$out/dmon.log" 2>&1 &
    dmon=$!
fi

for model in resnet50 resnet50-imagenet-stem; do
    step "bench $model, bf16, $train training images"
    start=$(date +%s)
    "$fuzzaug" bench --device "$device" --model "$model" --quiet --json \
        --set "dataset.train_size=$train" --set dataset.test_size=100 \
        --set 'train.precision="bf16"' --strategy random,w10,sensei \
        --repeats 5 --epochs 1 --project-epochs 200 --project-images 50000 \
        > "$out/bench-$model.json"
    echo "$model $start $(date +%s)" >> "$out/bench-times.txt"
done

step "grid of 2,187 variants over $test test images, resnet18, bf16"
cat > "$work/grid.toml" <<EOF
name = "grid"
seed = 0
device = "$device"
output_dir = "$work/runs"

[dataset]
name = "shapes"
train_size = 256
test_size = $test

[model]
arch = "resnet18"

[train]
epochs = 1
batch_size = 128
precision = "bf16"

[[transforms]]
name = "rotation"
range = [-30, 30]

[[transforms]]
name = "translate_x"
range = [-3, 3]

[[transforms]]
name = "translate_y"
range = [-3, 3]

[[transforms]]
name = "shear"
range = [-0.1, 0.1]

[[transforms]]
name = "zoom"
range = [0.9, 1.1]

[[transforms]]
name = "brightness"
range = [-32, 32]

[[transforms]]
name = "contrast"
range = [0.8, 1.2]

[strategy]
name = "standard"

[eval]
robust_every = 0
robust_subset = 16
EOF
"$fuzzaug" run "$work/grid.toml" --quiet
start=$(date +%s.%N)
# The run's own end-of-run grid covers 16 images; the timed one covers them all.
"$fuzzaug" eval "$work/runs/grid" --no-early-exit --set "eval.robust_subset=$test" \
    --out "$out/grid" | tee "$out/grid.txt"
end=$(date +%s.%N)
python3 -c "print(f'grid eval wall seconds: {$end - $start:.1f}')" | tee -a "$out/grid.txt"
step "done: $out"
