#!/usr/bin/env python3
"""Reads Criterion change/estimates.json files and fails on a significant regression.

A benchmark regressed when its mean got slower by more than --threshold (relative) and the
95% confidence interval of that change lies entirely above zero, i.e. the slowdown is
significant at p < 0.05 (two-sided). Prints a table; exits 1 when anything regressed.
"""
import argparse
import json
import pathlib
import sys


def benchmark_id(path: pathlib.Path) -> str:
    # <criterion>/<group>/<function>[/<parameter>]/change/estimates.json
    parts = path.parts
    top = parts.index("criterion") if "criterion" in parts else 0
    return "/".join(parts[top + 1 : -2])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float, default=0.05)
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    regressed = []
    rows = []
    for name in args.files:
        path = pathlib.Path(name)
        mean = json.loads(path.read_text())["mean"]
        change = mean["point_estimate"]
        lower = mean["confidence_interval"]["lower_bound"]
        upper = mean["confidence_interval"]["upper_bound"]
        significant = lower > 0 or upper < 0
        is_regression = change > args.threshold and lower > 0
        verdict = "REGRESSED" if is_regression else ("improved" if significant and change < -args.threshold else "ok")
        rows.append((benchmark_id(path), change, lower, upper, verdict))
        if is_regression:
            regressed.append(benchmark_id(path))
    if not rows:
        print("no comparison was made (first run, or no baseline to compare with)")
        return 0
    print(f"\n{'benchmark':<48} {'change':>8} {'95% CI':>20}  verdict")
    for bench, change, lower, upper, verdict in sorted(rows):
        print(f"{bench:<48} {change*100:>+7.1f}% [{lower*100:+6.1f}%, {upper*100:+6.1f}%]  {verdict}")
    if regressed:
        print(f"\n{len(regressed)} regression(s) beyond {args.threshold*100:.0f}%: {', '.join(regressed)}")
        return 1
    print(f"\nno regression beyond {args.threshold*100:.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
