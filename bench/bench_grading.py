"""Time grading end to end: kernel start, notebook execution, tests, total.

Usage: python bench/bench_grading.py [ASSIGNMENT ...] [--repeat N]

Grades every example submission of each assignment (default: all) N times and
prints the median of each phase. Results go in docs/benchmarks.md with the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from grader.course import find_course
from grader.pipeline import grade
from grader.testing.live import live_notebook

ROOT = Path(__file__).resolve().parent.parent


def kernel_start_seconds(repeat: int) -> float:
    """Median time to start a sandboxed kernel and get one answer from it."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        with live_notebook(["x = 1"]) as (nb, _run):
            nb.get("x")
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    course = find_course(ROOT)
    names = args.assignments or course.assignment_names()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores")
    print(
        f"kernel start + one request (median of {args.repeat}): "
        f"{kernel_start_seconds(args.repeat):.2f} s"
    )
    print("| assignment | submission | score | execute s | tests s | total s |")
    print("|---|---|---|---|---|---|")
    for name in names:
        assignment = course.assignment(name)
        for notebook in sorted((ROOT / "examples" / "submissions" / name).glob("*.ipynb")):
            runs = [grade(assignment, notebook).result for _ in range(args.repeat)]
            med = {
                k: statistics.median(getattr(r.timings, k) for r in runs)
                for k in ("execute_s", "tests_s", "total_s")
            }
            score = runs[0].score
            print(
                f"| {name} | {notebook.name} | {score.points:g}/{score.max_points:g} | "
                f"{med['execute_s']:.1f} | {med['tests_s']:.1f} | {med['total_s']:.1f} |"
            )


if __name__ == "__main__":
    main()
