#!/usr/bin/env python3
"""Prints the final figures of fuzzaug run directories side by side (used by `make demo`).

Usage: scripts/runs-side-by-side.py RUN_DIR [RUN_DIR ...]
Reads each RUN_DIR/summary.json (written by `fuzzaug run`); exits 1 with a message when one is
missing or unreadable.
"""
import json
import os
import sys


def main(dirs):
    if not dirs:
        print("usage: runs-side-by-side.py RUN_DIR [RUN_DIR ...]", file=sys.stderr)
        return 2
    rows = []
    for d in dirs:
        path = os.path.join(d, "summary.json")
        try:
            with open(path) as f:
                s = json.load(f)
        except (OSError, ValueError) as e:
            print(f"error: {path}: {e}", file=sys.stderr)
            return 1
        robust = s.get("robust_acc")
        rows.append([
            str(s.get("strategy", "?")),
            f"{s['test_acc']:.4f}" if "test_acc" in s else "-",
            f"{robust:.4f}" if robust is not None else "-",
            f"{s.get('robust_grid_size', '-')} × {s.get('robust_subset', '-')}",
            f"{s.get('train_seconds', 0):.0f} s",
            os.path.abspath(d),
        ])
    head = ["strategy", "test acc", "robust acc", "grid × images", "training", "run directory"]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
