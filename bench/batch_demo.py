"""Issue 5's demonstration: 40 backprop submissions, a batch killed half-way, and Dask.

    python bench/batch_demo.py [--count 40] [--out /tmp/batch-demo]

1. Generates ``count`` submissions from the backprop examples (each a distinct notebook).
2. Grades them with ``grader batch --workers 2``, kills the whole batch with SIGKILL once
   a third are in the gradebook, then runs the same command again.
3. Checks the gradebook: ``count`` students, one attempt each, nothing graded before the
   kill was graded again.
4. Grades the same folder through a Dask scheduler and two worker processes started
   separately on loopback, and checks the scores are identical.

Prints what it measured as JSON (times, counts) for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from benchlib import make_submissions

from grader.batch.loopback import loopback_cluster

ROOT = Path(__file__).resolve().parents[1]
GRADER = [sys.executable, "-c", "from grader.cli import run; run()"]


def rows(out: Path) -> list[tuple[str, float, str]]:
    path = out / "gradebook.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        query = "SELECT student, points, graded_at FROM attempts ORDER BY student"
        return db.execute(query).fetchall()


def batch(subs: Path, out: Path, *extra: str, **popen) -> subprocess.Popen:
    argv = [*GRADER, "batch", str(subs), "-a", "backprop", "--course", str(ROOT), "-o", str(out)]
    return subprocess.Popen(
        [*argv, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("/tmp/batch-demo"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    subs, local, remote = args.out / "submissions", args.out / "local", args.out / "remote"
    make_submissions(subs, args.count)
    report: dict[str, object] = {"submissions": args.count}

    started = time.perf_counter()
    first = batch(subs, local, "--workers", "2", start_new_session=True)
    while len(rows(local)) < args.count // 3 and first.poll() is None:
        time.sleep(0.2)
    before = rows(local)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    report["graded_before_kill"] = len(before)
    second = batch(subs, local, "--workers", "2")
    output = second.communicate()[0].decode()
    report["local_s"] = round(time.perf_counter() - started, 1)
    after = rows(local)
    report["resumed_line"] = next(line for line in output.splitlines() if "to grade" in line)
    report["students"] = len({s for s, _, _ in after})
    report["attempts"] = len(after)
    report["regraded_after_kill"] = len(set(before) - set(after))
    assert report["students"] == report["attempts"] == args.count, report
    assert report["regraded_after_kill"] == 0, report

    with loopback_cluster(2, args.out) as address:
        started = time.perf_counter()
        third = batch(subs, remote, "--scheduler", address)
        third.communicate()
        report["dask_s"] = round(time.perf_counter() - started, 1)
    same = [(s, p) for s, p, _ in rows(remote)] == [(s, p) for s, p, _ in rows(local)]
    report["dask_scores_identical"] = same
    assert same, "scores differ between the local cluster and the scheduler"
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
