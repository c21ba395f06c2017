"""Calibrate an assignment's graded numbers from its reference solution.

A rubric's pass mark must sit safely below what the reference solution reaches on any
seed, or a correct submission fails on an unlucky draw. This script measures the spread:

    python bench/calibrate.py lenet5 --seeds 0-9          # any assignment: grades the solution
    python bench/calibrate.py backprop --probes --seeds 0-199  # gradient errors, XOR rates

For every assignment, the solution is graded through the real pipeline (sandboxed kernel,
grading parameters, every test) once per seed, with ``SEED`` injected, and every number
the tests recorded with ``nb.record`` is summarised across seeds, with the grading time.
backprop adds a mode of its own: the solution runs in one kernel and is asked, through
the probes the tests use, for gradient-check errors on random networks and XOR solve rates.

For a number where higher is better (accuracy) the suggested pass mark is the lower of
(worst seed - 3 standard errors of the mean) and (mean - 3 standard deviations), rounded
down to 0.05; for one where lower is better (an error ratio) the suggested ceiling is the
mirror image, rounded up. docs/calibration.md records the results and their machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def seed_range(text: str) -> list[int]:
    """``0-9`` or ``0,3,7`` -> a list of seeds."""
    if "-" in text:
        low, high = text.split("-", 1)
        return list(range(int(low), int(high) + 1))
    return [int(part) for part in text.split(",")]


def machine() -> dict[str, object]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
    }


def summarise(values: list[float]) -> dict[str, float]:
    """Mean, spread and the suggested pass mark (and ceiling) of one measured number."""
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    se = sd / math.sqrt(len(values))
    mark = min(min(values) - 3 * se, mean - 3 * sd)
    ceiling = max(max(values) + 3 * se, mean + 3 * sd)
    return {
        "n": len(values),
        "mean": round(mean, 4),
        "sd": round(sd, 4),
        "se": round(se, 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
        "suggested_pass_mark": math.floor(mark * 20) / 20,
        "suggested_ceiling": math.ceil(ceiling * 20) / 20,
    }


# -- any assignment: grade the solution once per seed ---------------------------------------


def numeric_measurements(result) -> dict[str, float]:
    """``criterion.key -> value`` for every finite number the tests recorded."""
    values = {}
    for criterion in result.criteria:
        for key, value in (criterion.measured or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                if math.isfinite(value):
                    values[f"{criterion.id}.{key}"] = float(value)
    return values


def calibrate_by_grading(name: str, seeds: list[int], tier: str | None) -> dict[str, object]:
    from grader.course import Assignment, find_course
    from grader.pipeline import grade

    if tier:
        os.environ["DLGRADER_DATA_TIER"] = tier
    course = find_course(ROOT)
    base = course.assignment(name)
    rows, result = [], None
    for seed in seeds:
        parameters = {**base.config.grading_parameters, "SEED": seed}
        config = base.config.model_copy(update={"grading_parameters": parameters})
        assignment = Assignment(course=course, config=config, folder=base.folder)
        started = time.perf_counter()
        result = grade(assignment, assignment.solution).result
        elapsed = time.perf_counter() - started
        failed = [c.id for c in result.criteria if c.status not in ("passed", "needs_gpu")]
        rows.append(
            {
                "seed": seed,
                "measured": numeric_measurements(result),
                "score": f"{result.score.points:g}/{result.score.max_points:g}",
                "not_passed": failed,
                "execute_s": result.timings.execute_s,
                "tests_s": result.timings.tests_s,
                "total_s": round(elapsed, 1),
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr)
    keys = sorted({key for row in rows for key in row["measured"]})
    return {
        "assignment": name,
        "tier": result.data_tier if result else None,
        "grading_parameters": base.config.grading_parameters,
        "runs": rows,
        "measured": {
            key: summarise([row["measured"][key] for row in rows if key in row["measured"]])
            for key in keys
        },
        "grading_time_s": summarise([row["total_s"] for row in rows]),
    }


# -- backprop ----------------------------------------------------------------------------


def calibrate_backprop(seeds: list[int]) -> dict[str, object]:
    import nbformat

    from grader import checks
    from grader.config import Limits
    from grader.datasets import regression_data, xor_data
    from grader.testing.live import live_notebook

    notebook = nbformat.read(ROOT / "solutions" / "backprop.ipynb", as_version=4)
    limits = Limits(cell_timeout=120, notebook_timeout=300, request_timeout=600)
    report: dict[str, object] = {"assignment": "backprop"}
    with live_notebook(notebook, limits=limits) as (nb, _run):
        errors = []
        for seed in seeds:
            rng = np.random.default_rng([seed, 99])
            sizes = [int(rng.integers(1, 6)) for _ in range(int(rng.integers(2, 5)))]
            params = {}
            for layer in range(1, len(sizes)):
                params[f"W{layer}"] = rng.normal(0, 0.8, size=(sizes[layer - 1], sizes[layer]))
                params[f"b{layer}"] = rng.normal(0, 0.3, size=(1, sizes[layer]))
            x, y = regression_data(8, sizes[0], sizes[-1], seed)
            result = checks.gradient_check(nb, params, x, y)
            errors.append(max(result.errors.values()))
        report["gradient_check_max_rel_error"] = {
            "n": len(errors),
            "median": float(np.median(errors)),
            "p99": float(np.quantile(errors, 0.99)),
            "max": float(np.max(errors)),
        }
        x, y = xor_data()
        for sizes, lr, epochs in (([2, 4, 1], 1.0, 5000), ([2, 2, 1], 1.0, 5000)):
            solved = 0
            for seed in seeds:
                params, _ = nb.call("train", x, y, sizes, lr, epochs, seed)
                y_hat = nb.call("forward", params, x)[0]
                solved += bool(np.array_equal(y_hat > 0.5, y > 0.5))
            report[f"xor_solved_{'-'.join(map(str, sizes))}"] = {
                "lr": lr,
                "epochs": epochs,
                "solved": solved,
                "of": len(seeds),
            }
            print(json.dumps({str(sizes): solved}), file=sys.stderr)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", help="an assignment of this course, e.g. lenet5")
    parser.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,4,7 (default 0-9)")
    parser.add_argument("--tier", choices=["offline", "full"], help="force a data tier")
    parser.add_argument(
        "--probes",
        action="store_true",
        help="backprop only: gradient errors and XOR solve rates instead of grading runs",
    )
    parser.add_argument("--out", type=Path, help="also write the JSON report here")
    args = parser.parse_args()
    seeds = seed_range(args.seeds)
    if args.probes:
        if args.assignment != "backprop":
            parser.error("--probes is backprop's mode")
        report = calibrate_backprop(seeds)
    else:
        report = calibrate_by_grading(args.assignment, seeds, args.tier)
    report["machine"] = machine()
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
