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
    figures = []
    for d in dirs:
        path = os.path.join(d, "summary.json")
        try:
            with open(path) as f:
                s = json.load(f)
        except (OSError, ValueError) as e:
            print(f"error: {path}: {e}", file=sys.stderr)
            return 1
        robust = s.get("robust_acc")
        figures.append((str(s.get("strategy", "?")), s.get("test_acc"), robust))
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
    print(summary_line(figures))
    return 0


def summary_line(figures: list) -> str:
    """One line on what two runs show: the second against the first (the baseline)."""
    if len(figures) != 2 or any(t is None or r is None for _, t, r in figures):
        return ""
    (base, t0, r0), (other, t1, r1) = figures
    points = 100 * (t1 - t0)
    ratio = f"{r1 / r0:.1f} times" if r0 > 0 else "infinitely more than"
    return (f"{other} keeps {base}'s test accuracy within {abs(points):.1f} points "
            f"({'+' if points >= 0 else '-'}{abs(points):.1f}) and reaches {ratio} its robust "
            f"accuracy ({r1:.3f} against {r0:.3f}): the same clean accuracy, far fewer images "
            f"broken by a rotation.") if abs(points) <= 2 else (
            f"{other} reaches {r1 / r0 if r0 > 0 else float('inf'):.1f} times {base}'s robust "
            f"accuracy ({r1:.3f} against {r0:.3f}) at {points:+.1f} points of test accuracy.")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
