#!/usr/bin/env python3
"""Find or install the libtorch that fuzzaug builds against, and print its folder.

fuzzaug pins tch 0.24.0, which binds exactly libtorch 2.11.0. In order:
  1. LIBTORCH, if set, must point at a libtorch 2.11.0 folder (a PyPI `torch/` or an unpacked
     libtorch archive);
  2. LIBTORCH_USE_PYTORCH, if set, uses the `torch` package of `python3` (or $PYTHON);
  3. otherwise torch==2.11.0 is installed from PyPI into a per-user cache
     ($FUZZAUG_CACHE or ~/.cache/fuzzaug)/torch-2.11.0, shared by every checkout, with the few
     pinned packages the test suite uses beside torch (TEST_EXTRAS).
Prints the libtorch folder on stdout; any problem is one clear line on stderr and exit code 1.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

WANTED = "2.11.0"


def fail(msg: str) -> None:
    print(f"provision-libtorch: error: {msg}", file=sys.stderr)
    sys.exit(1)


def version_of(folder: Path) -> str | None:
    """The full version (e.g. 2.11.0+cu130) of a libtorch folder, or None if it names none."""
    version_py = folder / "version.py"
    if version_py.is_file():
        m = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", version_py.read_text(), re.M)
        if m:
            return m.group(1)
    build_version = folder / "build-version"
    if build_version.is_file():
        return build_version.read_text().strip()
    return None


def check(folder: Path, origin: str) -> Path:
    if not (folder / "lib").is_dir() or not (folder / "include").is_dir():
        fail(f"{origin}: {folder} is not a libtorch folder (it has no lib/ and include/)")
    version = version_of(folder)
    if version is None:
        fail(f"{origin}: {folder} has neither version.py nor build-version, so its libtorch "
             f"version is unknown; fuzzaug needs {WANTED}")
    if version.split("+")[0] != WANTED:
        fail(f"{origin}: {folder} holds libtorch {version}, but fuzzaug (tch 0.24.0) needs "
             f"exactly {WANTED}; unset it to let fuzzaug install torch=={WANTED} into its cache")
    return folder.resolve()


def torch_dir_of(python: str, origin: str) -> Path:
    code = "import os, torch; print(os.path.dirname(torch.__file__))"
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    except OSError as e:
        fail(f"{origin}: cannot run {python}: {e}")
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        fail(f"{origin}: `{python}` cannot import torch: {last}")
    return Path(out.stdout.strip().splitlines()[-1])


def installed_torch(prefix: Path) -> Path | None:
    """The torch/ folder inside a venv or a `pip --target` folder made by `cached`."""
    hits = sorted(prefix.glob("lib/python3*/site-packages/torch")) + sorted(prefix.glob("site/torch"))
    return hits[0] if hits else None


def install(tmp: Path) -> None:
    """A venv when the Python has one (Debian's needs python3-venv), else `pip --target`."""
    base_python = os.environ.get("PYTHON", sys.executable)
    pip_args = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"torch=={WANTED}"]
    try:
        venv = subprocess.run([base_python, "-m", "venv", str(tmp)], stdout=sys.stderr,
                              stderr=subprocess.PIPE, text=True, check=False)
    except OSError as e:
        fail(f"cannot run {base_python} to install torch: {e}")
    if venv.returncode == 0:
        step = [str(tmp / "bin" / "python"), *pip_args]
    else:
        print("provision-libtorch: no venv module, installing with pip --target", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
        step = [base_python, *pip_args, "--target", str(tmp / "site")]
    try:
        ok = subprocess.run(step, stdout=sys.stderr, check=False).returncode == 0
    except OSError as e:
        ok = False
        print(f"provision-libtorch: {e}", file=sys.stderr)
    if not ok:
        shutil.rmtree(tmp, ignore_errors=True)
        fail(f"`{' '.join(step)}` failed; see the lines above")


# What the test suite's interoperability tests use beside torch (reading exports, TensorBoard
# files, twin weights; torchvision's ResNets), pinned, installed into the same cache. torchvision
# goes in without its dependencies so that pip never fetches a second torch.
TEST_EXTRAS = ["numpy==2.4.6", "safetensors==0.8.0", "tensorboard==2.21.0", "pillow==12.0.0"]
NO_DEPS_EXTRAS = ["torchvision==0.26.0"]


def ensure_extras(prefix: Path) -> None:
    """Installs TEST_EXTRAS and NO_DEPS_EXTRAS into the cache at `prefix` once."""
    marker = prefix / ".extras"
    wanted = "\n".join(TEST_EXTRAS + NO_DEPS_EXTRAS) + "\n"
    if marker.is_file() and marker.read_text() == wanted:
        return
    venv_python = prefix / "bin" / "python"
    if venv_python.is_file():
        base, target = [str(venv_python)], []
    else:
        base, target = [os.environ.get("PYTHON", sys.executable)], ["--target", str(prefix / "site")]
    pip = [*base, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *target]
    print(f"provision-libtorch: installing the test suite's Python packages into {prefix}: "
          f"{' '.join(TEST_EXTRAS + NO_DEPS_EXTRAS)}", file=sys.stderr)
    for step in ([*pip, *TEST_EXTRAS], [*pip, "--no-deps", *NO_DEPS_EXTRAS]):
        try:
            ok = subprocess.run(step, stdout=sys.stderr, check=False).returncode == 0
        except OSError as e:
            ok = False
            print(f"provision-libtorch: {e}", file=sys.stderr)
        if not ok:
            fail(f"`{' '.join(step)}` failed; see the lines above")
    marker.write_text(wanted)


def cached() -> Path:
    root = Path(os.environ.get("FUZZAUG_CACHE") or Path.home() / ".cache" / "fuzzaug")
    prefix = root / f"torch-{WANTED}"
    if (prefix / ".complete").is_file() and installed_torch(prefix):
        ensure_extras(prefix)
        return check(installed_torch(prefix), f"cache {prefix}")
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f"torch-{WANTED}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"provision-libtorch: installing torch=={WANTED} from PyPI into {prefix} "
          "(about 4.6 GB, once per user)", file=sys.stderr)
    install(tmp)
    (tmp / ".complete").write_text(WANTED + "\n")
    if prefix.exists():  # an unfinished earlier attempt, or another checkout won the race
        if (prefix / ".complete").is_file() and installed_torch(prefix):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            shutil.rmtree(prefix, ignore_errors=True)
            tmp.rename(prefix)
    else:
        tmp.rename(prefix)
    torch = installed_torch(prefix)
    if torch is None:
        fail(f"the install in {prefix} holds no torch/ folder")
    ensure_extras(prefix)
    return check(torch, f"cache {prefix}")


def main() -> None:
    if os.environ.get("LIBTORCH"):
        folder = check(Path(os.environ["LIBTORCH"]), "LIBTORCH")
    elif os.environ.get("LIBTORCH_USE_PYTORCH"):
        python = os.environ.get("PYTHON", "python3")  # the Python whose torch tch would use
        folder = check(torch_dir_of(python, "LIBTORCH_USE_PYTORCH"), f"torch of {python}")
    else:
        folder = cached()
    print(folder)


if __name__ == "__main__":
    main()
