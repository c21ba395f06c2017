"""Kernels forked from a zygote against kernels started from scratch, alternating.

    python bench/zygote_ab.py [--count 10] [--workers 2] [--rounds 2]

Grades the same ``count`` backprop submissions (bench/batch_scale.py's) with
``grader batch --workers W``, ``GRADER_ZYGOTE=off`` and ``on`` in turn (the order swapped
every round, so the VM's drift falls on both), then times the same tested notebooks in
plain kernels W at a time. CPU is the whole machine's, from ``/proc/stat``: every
process a batch starts (kernels, sandboxes, zygotes, Dask) counts, whoever its parent.
Prints one JSON line per run; nothing is written to the docs.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from batch_scale import check_scores, results_of, run_batch
from benchlib import example_of, load, machine, make_submissions, tested_in_parallel


def busy_cpu_s() -> float:
    """CPU seconds the machine has spent not idle since boot (all cores)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10, help="backprop submissions")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zygote-ab-"))
    make_submissions(work / "subs", args.count)
    print(f"# {machine()}; load {load()}", flush=True)
    for round_ in range(args.rounds):
        for setting in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
            os.environ["GRADER_ZYGOTE"] = setting
            out = work / f"out-{setting}-{round_}"
            before = busy_cpu_s()
            run = run_batch(work / "subs", out, args.workers)
            cpu = busy_cpu_s() - before
            right, _ = check_scores(results_of(out), args.count)
            line = {"zygote": setting, "wall_s": round(run.wall_s, 2), "cpu_s": round(cpu, 1)}
            line.update(cpu_per_submission_s=round(cpu / args.count, 2), scores_right=right)
            print(json.dumps(line), flush=True)
    os.environ.pop("GRADER_ZYGOTE")
    before = busy_cpu_s()
    wall = tested_in_parallel([example_of(i) for i in range(args.count)], args.workers)
    cpu = busy_cpu_s() - before
    print(json.dumps({"plain_kernels_side_by_side_s": round(wall, 2), "cpu_s": round(cpu, 1)}))
    print(f"# load {load()}")


if __name__ == "__main__":
    main()
