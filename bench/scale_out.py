"""Scale-out: the same class graded on a local cluster and on isolated workers.

The isolated run starts a scheduler and two ``dask worker`` processes, each in a mount
namespace of its own in which /tmp is empty (``loopback.hidden_from``): the course copy,
the submissions and the output folder, all under /tmp, do not exist for them. Tasks carry
the notebooks' bytes and the grading bundle; results come back. The table gives wall
time for both, the bytes a task and the bundle carry, and whether the scores agree.

    python bench/scale_out.py --count 10 --write
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import ROOT, machine, make_submissions, write_section

from grader.batch.bundle import make_bundle
from grader.batch.loopback import hidden_from, loopback_cluster
from grader.course import find_course

GRADER = [sys.executable, "-c", "from grader.cli import run; run()"]


def batch(course: Path, out: str, *extra: str) -> float:
    started = time.monotonic()
    argv = [*GRADER, "batch", "submissions", "-a", "backprop", "-o", out, *extra]
    done = subprocess.run(argv, cwd=course, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
    return time.monotonic() - started


def scores(out: Path) -> list[tuple[str, float]]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return db.execute("SELECT student, points FROM attempts ORDER BY student").fetchall()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlgrader-scale-out-") as folder:
        course = Path(folder) / "course"
        for part in ("assignments/backprop", "rubrics/backprop.yaml", "templates"):
            source, target = ROOT / part, course / part
            target.parent.mkdir(parents=True, exist_ok=True)
            copy = shutil.copytree if source.is_dir() else shutil.copy
            copy(source, target)
        make_submissions(course / "submissions", args.count)
        local_s = batch(course, "local", "--workers", "2")
        cluster = Path(folder) / "cluster"
        cluster.mkdir()
        with loopback_cluster(2, cluster, wrapper=hidden_from(cluster)) as address:
            isolated_s = batch(course, "isolated", "--scheduler", address)
        bundle = make_bundle(find_course(course).assignment("backprop"))
        notebook_bytes = sum(p.stat().st_size for p in (course / "submissions").glob("*"))
        same = scores(course / "local") == scores(course / "isolated")
    report = (
        f"**Machine:** {machine()}. {args.count} backprop submissions, 2 workers.\n\n"
        "| run | wall s |\n|---|---|\n"
        f"| local cluster (shared filesystem) | {local_s:.1f} |\n"
        f"| scheduler + 2 workers, each in its own mount namespace | {isolated_s:.1f} |\n\n"
        f"Grading bundle: {len(bundle.data) / 1024:.0f} KiB, sent once per worker; notebooks: "
        f"{notebook_bytes / args.count / 1024:.0f} KiB per task on average. "
        f"Scores identical: {'yes' if same else '**no**'}."
    )
    print(report)
    if args.write:
        write_section("scale-out", report)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
