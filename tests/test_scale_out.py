"""Scale-out across machines: workers that share nothing with the client but the scheduler.

The scheduler and two ``dask worker`` processes each run in their own mount namespace
(bubblewrap) with an empty /tmp: the course folder, the submissions and the output folder
(all under /tmp here) do not exist for them. The batch runs from the course folder with a
relative path, as an instructor types it, and must give the same scores, reports and
gradebook as a local batch. A killed worker loses nothing; a worker with another dlgrader
is refused by name (issue 24).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grader.batch.loopback import hidden_from, loopback_cluster

pytestmark = pytest.mark.slow

TOY = Path(__file__).parent / "fixtures" / "toy_course"
GRADER = [sys.executable, "-c", "from grader.cli import run; run()"]
#: Run by a worker through ``sitecustomize``: it then reports another dlgrader version.
OTHER_VERSION = "import grader\ngrader.__version__ = '0.0.0-elsewhere'\n"

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")


def course_with_class(root: Path, count: int, pause_s: float = 0) -> Path:
    """A copy of the toy course with ``count`` submissions in ``submissions/``."""
    course = root / "course"
    shutil.copytree(TOY, course)
    subs = course / "submissions"
    subs.mkdir()
    for index in range(count):
        nb = nbformat.read(TOY / "solutions" / "toy.ipynb", as_version=4)
        if index % 3 == 2:
            nb.cells.append(nbformat.v4.new_code_cell("def scale(x, k):\n    return x"))
        nb.cells.append(nbformat.v4.new_code_cell(f"import time\ntime.sleep({pause_s})  # {index}"))
        nbformat.write(nb, subs / f"s{index:02d}.ipynb")
    return course


def batch(course: Path, out: str, *extra: str) -> subprocess.Popen:
    """``grader batch submissions -a toy`` run from the course folder (relative paths)."""
    argv = [*GRADER, "batch", "submissions", "-a", "toy", "-o", out, *extra]
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen(
        argv, cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def attempts(out: Path) -> list[tuple[str, float]]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return db.execute("SELECT student, points FROM attempts ORDER BY student").fetchall()


def cluster_folder(root: Path) -> Path:
    folder = root / "cluster"
    folder.mkdir()
    return folder


def workers_see(address: str, path: Path) -> list[bool]:
    from dask.distributed import Client

    with Client(address, timeout="30s") as client:
        return list(client.run(os.path.exists, str(path)).values())


@needs_bwrap
def test_isolated_workers_grade_a_relative_path_like_a_local_batch(tmp_path):
    course = course_with_class(tmp_path, 6)
    local = batch(course, "local", "--workers", "2")
    assert local.wait(timeout=300) == 0, local.stdout.read().decode()
    folder = cluster_folder(tmp_path)
    with loopback_cluster(2, folder, wrapper=hidden_from(folder)) as address:
        assert workers_see(address, course) == [False, False]
        assert workers_see(address, course / "submissions" / "s00.ipynb") == [False, False]
        remote = batch(course, "remote", "--scheduler", address)
        text = remote.communicate(timeout=300)[0].decode()
    assert remote.returncode == 0, text
    assert attempts(course / "remote") == attempts(course / "local")
    assert len(attempts(course / "local")) == 6
    for student in ("s00", "s02"):
        mine = json.loads((course / "remote" / student / "results.json").read_text())
        theirs = json.loads((course / "local" / student / "results.json").read_text())
        assert [c["status"] for c in mine["criteria"]] == [c["status"] for c in theirs["criteria"]]
        assert (course / "remote" / student / "report.html").is_file()
        assert mine["submission"]["path"].endswith(f"submissions/{student}.ipynb")
    assert (course / "remote" / "summary.html").is_file()


@needs_bwrap
def test_a_killed_worker_loses_nothing_and_duplicates_nothing(tmp_path):
    course = course_with_class(tmp_path, 6, pause_s=3)
    folder = cluster_folder(tmp_path)
    with loopback_cluster(2, folder, wrapper=hidden_from(folder)) as address:
        remote = batch(course, "out", "--scheduler", address)
        time.sleep(8)  # the first submissions are being graded on both workers
        victim = _worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        text = remote.communicate(timeout=400)[0].decode()
    assert remote.returncode == 0, text
    graded = attempts(course / "out")
    assert [s for s, _ in graded] == [f"s{i:02d}" for i in range(6)], text
    assert all(points > 0 for _, points in graded)


def _worker_pids() -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            line = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"dask_worker" in line and not line.startswith(b"bwrap"):
            found.append(int(proc.name))
    return sorted(found)


def test_a_worker_with_another_dlgrader_is_refused_by_name(tmp_path):
    course = course_with_class(tmp_path, 2)
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(OTHER_VERSION)
    env = {**os.environ, "PYTHONPATH": str(shim)}
    folder = cluster_folder(tmp_path)
    with loopback_cluster(1, folder, env=env) as address:
        refused = batch(course, "out", "--scheduler", address)
        text = refused.communicate(timeout=300)[0].decode()
    assert refused.returncode == 4 and "Traceback" not in text
    assert "refused: dlgrader 0.0.0-elsewhere (the client has" in " ".join(text.split())
    assert not (course / "out" / "gradebook.sqlite").exists() or attempts(course / "out") == []


def test_a_checkout_under_tmp_stays_visible_to_hidden_workers(monkeypatch):
    """A clone in /tmp keeps its virtualenv there: hiding /tmp must not hide the interpreter."""
    monkeypatch.setattr(sys, "prefix", "/tmp/clone/.venv")
    argv = hidden_from(Path("/tmp/cluster"))
    assert argv[argv.index("/tmp/clone/.venv") - 1] == "--ro-bind"
    assert argv.index("--tmpfs") < argv.index("/tmp/clone/.venv") < argv.index("/tmp/cluster")
    monkeypatch.setattr(sys, "prefix", "/opt/venv")
    assert "/opt/venv" not in hidden_from(Path("/tmp/cluster"))
