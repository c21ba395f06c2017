"""Where a batch's wall time goes besides grading: its start, its tail and its end.

    python bench/batch_timeline.py [--count 10] [--workers 2] [--rounds 1]

Runs ``grader batch`` on ``count`` backprop submissions (bench/batch_scale.py's) and
prints, per run, each grading's span on the batch's clock (its ``results.json`` is
written as it arrives; the span is that moment less the grading's own ``total_s``),
then the fixed costs: **planned** and **cluster** (launch to the command's "to grade"
and "grading on" lines), **start** (launch to the first grading), **tail** (the last
grading running while some worker has nothing left), **end** (the last result to the
process's exit) and **overhead** = wall minus the gradings' summed time divided by the
workers, the part of the wall a perfectly shared batch would not have. Nothing is
written to the docs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from batch_scale import check_scores, results_of, run_batch
from benchlib import load, machine, make_submissions


def spans(out: Path, launched: float) -> list[tuple[float, float, str]]:
    """(start, end, student) of each grading, in seconds from the batch's launch."""
    found = []
    for student, data in results_of(out).items():
        end = (out / student / "results.json").stat().st_mtime - launched
        found.append((end - data["timings"]["total_s"], end, student))
    return sorted(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10, help="backprop submissions")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="batch-timeline-"))
    make_submissions(work / "subs", args.count)
    print(f"# {machine()}; load {load()}", flush=True)
    for round_ in range(args.rounds):
        out = work / f"out-{round_}"
        launched = time.time()
        run = run_batch(work / "subs", out, args.workers)
        graded = spans(out, launched)
        for start, end, student in graded:
            print(f"  {student}  {start:6.2f} -> {end:6.2f} s")
        ends = sorted(end for _, end, _ in graded)
        busy = sum(end - start for start, end, _ in graded)
        right, _ = check_scores(results_of(out), args.count)
        line = {
            "wall_s": round(run.wall_s, 2),
            "planned_s": round(run.marks.get("planned", -1), 2),
            "cluster_s": round(run.marks.get("cluster_ready", -1), 2),
            "start_s": round(graded[0][0], 2),
            "tail_s": round(ends[-1] - ends[-args.workers], 2),
            "end_s": round(run.wall_s - ends[-1], 2),
            "overhead_s": round(run.wall_s - busy / args.workers, 2),
            "gradings_s": round(busy, 1),
            "order": [student for _, _, student in graded],
            "scores_right": right,
        }
        print(json.dumps(line), flush=True)
    print(f"# load {load()}")


if __name__ == "__main__":
    main()
