"""Batch grading against the floor: N backprop submissions with 1 and 2 workers.

    python bench/batch_scale.py [--counts 10 40 160] [--workers 1 2] [--write]

1. Makes ``max(counts)`` distinct submissions from the backprop examples (as
   bench/batch_demo.py does: frank's slow numerical backward left out).
2. The floor: each distinct example executed bare with nbclient (``--floor-repeat``
   times, median); a batch's floor is the sum over its submissions divided by the
   workers: perfect parallelism, no grading at all. The tested floor adds the lab's
   tests (bench/peers' port) in one more cell of the same plain kernel: the work any
   grader must do.
3. For each count and worker number, a fresh ``grader batch --workers W`` (its own
   process, as an instructor runs it), timed from launch to exit while a sampler reads
   the process tree: the grader's peak memory (CLI, scheduler, workers) and each kernel's.
4. From the CLI's own lines and the results: interpreter start and discovery, cluster
   start, the sum of the per-submission grading times (``timings.total_s``), and what
   is left per task (worker imports, reports, Dask), plus a check that every score is
   the one ``examples/submissions/backprop/EXPECTED.yaml`` gives its example.

Prints markdown; ``--write`` puts it in docs/benchmarks.md (section ``batch``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from benchlib import (
    EXAMPLES,
    ROOT,
    backprop_examples,
    example_floors,
    example_of,
    load,
    machine,
    make_submissions,
    median,
    table,
    tested_in_parallel,
    write_section,
)
from measured import Measured, run_measured

from grader.expectations import load_expectations

GRADER = [sys.executable, "-c", "from grader.cli import run; run()"]


def expected_scores() -> dict[str, tuple[float, float]]:
    """``file name -> (lowest, highest) score`` from the backprop examples' EXPECTED.yaml."""
    scores = {}
    for stem, example in load_expectations(EXAMPLES / "backprop").examples.items():
        score = example.score
        low, high = (score, score) if isinstance(score, float | int) else (score.min, score.max)
        scores[f"{stem}.ipynb"] = (float(low), float(high))
    return scores


def run_batch(subs: Path, out: Path, workers: int) -> Measured:
    """One ``grader batch``: wall time, when its phases began, CPU and peak memory."""
    shutil.rmtree(out, ignore_errors=True)
    argv = [*GRADER, "batch", str(subs), "-a", "backprop", "--course", str(ROOT)]
    argv += ["-o", str(out), "--workers", str(workers)]
    watch = {"planned": "to grade", "cluster_ready": "grading on", "summary_done": "class summary"}
    run = run_measured(argv, watch=watch)
    if run.returncode != 0:
        raise RuntimeError(f"grader batch exited {run.returncode}:\n{run.output[-3000:]}")
    return run


def results_of(out: Path) -> dict[str, dict[str, Any]]:
    """Each student's results.json (score, timings)."""
    found = {}
    for path in sorted(out.glob("*/results.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[path.parent.name] = data
    return found


def check_scores(results: dict[str, dict[str, Any]], count: int) -> tuple[int, list[str]]:
    """How many scores match EXPECTED.yaml, and the students that do not."""
    expected = expected_scores()
    wrong = []
    for index in range(count):
        student = f"student{index:02d}"
        want = expected.get(example_of(index).name)
        data = results.get(student)
        got = data["score"]["points"] if data else None
        if (
            got is None
            or want is None
            or not want[0] - 1e-9 <= got <= want[1] + 1e-9
            or data.get("grading_error")
        ):
            wrong.append(f"{student}: {got} (expected {want})")
    return count - len(wrong), wrong


Floors = dict[str, tuple[float, float]]


def measure(count: int, workers: int, subs: Path, out: Path, floors: Floors) -> dict[str, Any]:
    print(f"batch of {count} with {workers} worker(s)", file=sys.stderr)
    run = run_batch(subs, out, workers)
    results = results_of(out)
    right, wrong = check_scores(results, count)
    names = [example_of(i).name for i in range(count)]
    floor_s = sum(floors[n][0] for n in names) / workers
    tested_s = sum(floors[n][1] for n in names) / workers
    parallel_s = tested_s
    if workers > 1:
        print(f"{count} notebooks and tests, {workers} plain kernels at a time", file=sys.stderr)
        parallel_s = tested_in_parallel([example_of(i) for i in range(count)], workers)
    graded_sum = sum(r["timings"]["total_s"] for r in results.values())
    marks = run.marks
    planned = marks.get("planned", float("nan"))
    ready = marks.get("cluster_ready", float("nan"))
    done = marks.get("summary_done", run.wall_s)
    # Worker time not spent inside grade(): imports, reports, Dask, idle at the end.
    per_task = (workers * (done - ready) - graded_sum) / count
    kernels = run.kernel_peaks_mb
    row = {
        "count": count,
        "workers": workers,
        "wall_s": run.wall_s,
        "floor_s": floor_s,
        "ratio": run.wall_s / floor_s,
        "tested_s": tested_s,
        "tested_ratio": run.wall_s / tested_s,
        "parallel_s": parallel_s,
        "parallel_ratio": run.wall_s / parallel_s,
        "grader_cpu_s": run.cpu_s["grader"] / count,
        "main_cpu_s": run.cpu_s["main"] / count,
        "kernel_cpu_s": run.cpu_s["kernel"] / count,
        "startup_s": planned,
        "cluster_s": ready - planned,
        "graded_sum_s": graded_sum,
        "per_grade_s": graded_sum / max(1, len(results)),
        "per_task_extra_s": per_task,
        "after_s": run.wall_s - done,
        "grader_peak_mb": run.grader_peak_mb,
        "grader_largest_mb": run.grader_largest_mb,
        "kernel_peak_mb": max(kernels) if kernels else float("nan"),
        "kernel_median_mb": median(kernels),
        "kernels_seen": len(kernels),
        "scores_right": right,
        "wrong": wrong[:5],
    }
    print(json.dumps(row), file=sys.stderr)
    return row


def report(rows: list[dict[str, Any]], floors: Floors, args, started_load: str) -> str:
    body = [
        [
            r["count"],
            r["workers"],
            f"{r['wall_s']:.1f}",
            f"{r['floor_s']:.1f}",
            f"**{r['ratio']:.2f}x**",
            f"{r['tested_s']:.1f}",
            f"{r['tested_ratio']:.2f}x",
            f"{r['parallel_s']:.1f}" if r["workers"] > 1 else "=",
            f"{r['parallel_ratio']:.2f}x",
            f"{r['startup_s']:.1f}",
            f"{r['cluster_s']:.1f}",
            f"{r['per_grade_s']:.2f}",
            f"{r['per_task_extra_s']:.2f}",
            f"{r['main_cpu_s']:.2f} + {r['grader_cpu_s'] - r['main_cpu_s']:.2f} / "
            f"{r['kernel_cpu_s']:.2f}",
            f"{r['grader_peak_mb']:.0f} ({r['grader_largest_mb']:.0f})",
            f"{r['kernel_peak_mb']:.0f} / {r['kernel_median_mb']:.0f} ({r['kernels_seen']})",
            f"{r['scores_right']}/{r['count']}",
        ]
        for r in rows
    ]
    listed = ", ".join(
        f"{name.split('_')[0]} {bare:.2f} / {tested:.2f}" for name, (bare, tested) in floors.items()
    )
    command = f"python bench/batch_scale.py --counts {' '.join(map(str, args.counts))} "
    command += f"--workers {' '.join(map(str, args.workers))} --floor-repeat {args.floor_repeat}"
    return "\n".join(
        [
            "## Batch grading against the floor",
            "",
            f"`{command}` on {machine()}; load average at the start {started_load}, at the "
            f"end {load()}. One run per row, all rows from one invocation.",
            "",
            "Backprop submissions made from the five fast examples (frank's numerical "
            "backward left out), graded by `grader batch --workers W` from launch to exit. "
            "**floor** = the sum of each submission's bare nbclient execution time divided "
            "by W; **tested floor** = the same for the notebook followed by bench/peers' "
            "port of the lab's tests in one more cell of the same plain kernel (per example, "
            f"bare / tested, median of {args.floor_repeat}: {listed} s); **tested, W at a "
            "time** = the wall time of those N notebooks with their tests in plain kernels, "
            "W at a time (measured after each batch; with W = 1 it is the tested floor). "
            "**start** = interpreter start, imports and discovery; **cluster** = the local "
            "Dask cluster's start; **grade()** = the mean `timings.total_s` of one "
            "submission; **extra per task** = worker time per submission outside `grade()` "
            "(worker imports, reports, Dask). **CPU per submission**: CPU seconds used by "
            "the grader's main process (CLI, scheduler, nannies) + its workers / by the "
            "kernels, divided by N. Memory: the grader's "
            "processes together (PSS, and the largest one alone) "
            "(CLI, scheduler, nannies, workers) at their peak, and each kernel's own peak "
            "RSS (max / median over kernels, kernels seen).",
            "",
            table(
                [
                    "N",
                    "workers",
                    "wall s",
                    "floor s",
                    "wall / floor",
                    "tested floor s",
                    "wall / tested floor",
                    "tested, W at a time s",
                    "wall / that",
                    "start s",
                    "cluster s",
                    "grade() s",
                    "extra per task s",
                    "CPU per submission s",
                    "grader peak MB",
                    "kernel peak MB",
                    "scores as EXPECTED",
                ],
                body,
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10, 40, 160])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--floor-repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-batch"))
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    started_load = load()
    shutil.rmtree(args.out, ignore_errors=True)
    floors = example_floors(backprop_examples(), args.floor_repeat)
    rows = []
    for count in args.counts:
        subs = args.out / f"submissions-{count}"
        make_submissions(subs, count)
        for workers in args.workers:
            out = args.out / f"out-{count}-{workers}"
            rows.append(measure(count, workers, subs, out, floors))
    text = report(rows, floors, args, started_load)
    print(text)
    if args.write:
        write_section("batch", text)


if __name__ == "__main__":
    main()
