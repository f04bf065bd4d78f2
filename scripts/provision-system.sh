#!/usr/bin/env bash
# The system packages the test suite uses besides Rust, Python and libtorch:
#   - headless Chromium, which renders `fuzzaug compare`'s report.html in tests/tests/compare.rs;
#   - Slurm (slurmctld, slurmd, the client tools) with munge, the private one-node cluster of
#     tests/tests/slurm.rs (tests/slurm/cluster.sh).
# Installs what is missing with apt-get when it can (root, or sudo without a password); otherwise
# stops at once, naming the packages and the command. `make test` and `.ci/run` run it first.
set -euo pipefail

log() { printf 'provision-system: %s\n' "$*" >&2; }

has() { command -v "$1" >/dev/null 2>&1 || [[ -x /usr/sbin/$1 ]]; }

packages=()
if ! has chromium && ! has chromium-browser && ! has google-chrome; then
    packages+=(chromium)
fi
slurm_missing=0
for b in sbatch slurmctld slurmd munged; do
    has "$b" || slurm_missing=1
done
if ((slurm_missing)); then
    packages+=(slurmctld slurmd slurm-client munge)
fi
if ((${#packages[@]} == 0)); then
    exit 0
fi

command_line="apt-get install -y --no-install-recommends ${packages[*]}"
sudo=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        printf 'error: the test suite needs %s, which this machine lacks, and fuzzaug cannot install them here (not root, and no sudo without a password). Install them with `sudo %s` (Debian and Ubuntu package names; Chromium renders the compare report, Slurm and munge run the local cluster of the sweep test), then run `make test` again.\n' \
            "${packages[*]}" "$command_line" >&2
        exit 1
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    printf 'error: the test suite needs %s (Debian names), and this machine has no apt-get to install them with; install headless Chromium, Slurm (slurmctld, slurmd, client) and munge with its package manager, then run `make test` again.\n' \
        "${packages[*]}" >&2
    exit 1
fi
log "installing ${packages[*]} (once)"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2
