"""``grader batch`` end to end on real Dask clusters and real kernels (the toy course).

A batch killed with SIGKILL half-way resumes without regrading or losing anything, and
the same submissions graded through a scheduler with two separately started worker
processes on loopback get the same scores as on the embedded local cluster.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader.batch.loopback import loopback_cluster
from grader.runners.workdirs import OWNER_FILE, PREFIX, owner_gone

pytestmark = pytest.mark.slow

TOY = Path(__file__).parent / "fixtures" / "toy_course"
GRADER = [sys.executable, "-c", "from grader.cli import run; run()"]


def make_class(folder: Path, count: int, pause_s: float) -> None:
    """``count`` submissions: the toy solution, a few with a wrong scale, each distinct."""
    folder.mkdir(parents=True)
    for index in range(count):
        nb = nbformat.read(TOY / "solutions" / "toy.ipynb", as_version=4)
        if index % 4 == 3:
            nb.cells.append(nbformat.v4.new_code_cell("def scale(x, k):\n    return x"))
        nb.cells.append(nbformat.v4.new_code_cell(f"import time\ntime.sleep({pause_s})  # {index}"))
        nbformat.write(nb, folder / f"s{index:02d}.ipynb")


def batch(subs: Path, out: Path, *extra: str, **kwargs) -> subprocess.Popen:
    argv = [*GRADER, "batch", str(subs), "-a", "toy", "--course", str(TOY), "-o", str(out)]
    return subprocess.Popen(
        [*argv, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwargs
    )


def rows(out: Path) -> list[tuple[str, float]]:
    path = out / "gradebook.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        try:
            return db.execute("SELECT student, points FROM attempts ORDER BY student").fetchall()
        except sqlite3.OperationalError:  # polled between the file's creation and its tables
            return []


def orphaned_work_folders(ignore: set[Path]) -> list[Path]:
    """Kernel work folders (not in ``ignore``) whose owning grader process is gone."""
    found = []
    for folder in set(Path("/tmp").glob(PREFIX + "*")) - ignore:
        try:
            if owner_gone((folder / OWNER_FILE).read_text()):
                found.append(folder)
        except OSError:
            continue
    return found


def test_a_killed_batch_resumes_without_regrading_or_losing(tmp_path):
    earlier = set(Path("/tmp").glob(PREFIX + "*"))
    subs, out = tmp_path / "subs", tmp_path / "out"
    make_class(subs, 10, pause_s=1.5)
    first = batch(subs, out, "--workers", "2", start_new_session=True)
    deadline = time.monotonic() + 120
    while len(rows(out)) < 3 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.2)
    before = rows(out)
    assert 3 <= len(before) < 10, f"the batch should be midway, has {len(before)}"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    second = batch(subs, out, "--workers", "2")
    text = second.communicate(timeout=300)[0].decode()
    assert second.returncode == 0, text
    assert f"{10 - len(before)} to grade, {len(before)} already in the gradebook" in text
    after = rows(out)
    assert [s for s, _ in after] == [f"s{i:02d}" for i in range(10)], "one attempt each"
    assert set(before) <= set(after), "nothing graded before the kill was redone or lost"
    assert {p for s, p in after if int(s[1:]) % 4 == 3} == {6.0}
    assert {p for s, p in after if int(s[1:]) % 4 != 3} == {9.0}
    again = batch(subs, out)
    assert "0 to grade, 10 already" in again.communicate(timeout=120)[0].decode()
    # The killed batch's folders (its workers' waiting kernels' too) were reaped by the
    # second batch; the second left none of its own.
    assert orphaned_work_folders(earlier) == []


def test_a_scheduler_with_two_worker_processes_gives_the_same_scores(tmp_path):
    subs = tmp_path / "subs"
    make_class(subs, 6, pause_s=0)
    local = batch(subs, tmp_path / "local", "--workers", "2")
    assert local.wait(timeout=300) == 0
    with loopback_cluster(2, tmp_path) as address:
        remote = batch(subs, tmp_path / "remote", "--scheduler", address)
        text = remote.communicate(timeout=300)[0].decode()
        # The cluster outlives the batch, but the workers' waiting kernels do not.
        waiting = [f for f in Path("/tmp").glob(PREFIX + "*") if _owned_by_workers(f)]
    assert remote.returncode == 0, text
    assert "2 worker(s)" in text
    assert waiting == [], "a worker kept a kernel after the batch ended"
    assert rows(tmp_path / "remote") == rows(tmp_path / "local")
    assert len(rows(tmp_path / "local")) == 6


def grade_in_process(tmp_path: Path, count: int, workers: int) -> tuple[Any, Any, list[dict]]:
    """A batch of ``count`` toy submissions on a local cluster of ``workers``, run from
    this process: the plan, the outcome and each worker's kernel pool afterwards."""
    from grader.batch.dispatch import Dispatcher
    from grader.batch.gradebook import Gradebook
    from grader.batch.run import plan, run_batch
    from grader.batch.submissions import DEFAULT_PATTERN
    from grader.course import find_course

    subs = tmp_path / "subs"
    make_class(subs, count, pause_s=0)
    assignment = find_course(TOY).assignment("toy")
    dispatcher = Dispatcher(workers)
    try:
        with Gradebook(tmp_path / "gradebook.sqlite") as gradebook:
            todo = plan(
                assignment, subs, gradebook, tmp_path / "work", DEFAULT_PATTERN, None, False
            )
            outcome = run_batch(assignment, todo, gradebook, tmp_path / "out", dispatcher)
        pools = list(dispatcher.on_each_worker(_pool_state).values())
    finally:
        dispatcher.close()
    return todo, outcome, pools


def _pool_state() -> dict[str, object]:
    from grader.batch.worker import worker_pool

    pool = worker_pool()
    return {
        "first_warm": pool.first_was_warm,
        "used": pool.used,
        "discarded": pool.discarded,
        "waiting": pool.waiting,
    }


def test_each_workers_first_grading_takes_a_kernel_started_as_it_joined(tmp_path):
    """Two submissions, two workers: each grading ran in a kernel the worker started
    while the batch began (the kind ``grade`` asks for matches what ``warm_up`` made),
    even where the grading reached the worker before the task that starts that kernel."""
    _, outcome, pools = grade_in_process(tmp_path, 2, workers=2)
    assert sorted(r.score.points for _, r in outcome.graded) == [9.0, 9.0]
    assert [p["first_warm"] for p in pools] == [True, True], pools
    assert all(p["discarded"] == 0 for p in pools), pools


def test_a_worker_grades_in_the_batchs_order_and_warms_no_kernel_after_its_last(tmp_path):
    """Dask runs tasks submitted within 100 ms in an order of its own; the batch's order
    is what tells each worker which grading is its last (no kernel started after it)."""
    todo, outcome, (pool,) = grade_in_process(tmp_path, 6, workers=1)
    assert [s for s, _ in outcome.graded] == [s.student for s in todo.to_grade]
    assert pool == {"first_warm": True, "used": 6, "discarded": 0, "waiting": False}


def test_the_next_submission_goes_to_the_worker_that_is_free(tmp_path):
    """The first submission holds one worker for 20 s; the other grades every other
    submission meanwhile, in the batch's order. Shared out up front, the slow worker
    would have been handed some of them too, and the fast one would sit idle."""
    subs = tmp_path / "subs"
    make_class(subs, 6, pause_s=0)
    slow = nbformat.read(subs / "s00.ipynb", as_version=4)
    slow.cells.append(nbformat.v4.new_code_cell("import time\ntime.sleep(20)"))
    nbformat.write(slow, subs / "s00.ipynb")
    out = tmp_path / "out"
    text = batch(subs, out, "--workers", "2").communicate(timeout=300)[0].decode()
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        order = [s for (s,) in db.execute("SELECT student FROM attempts ORDER BY id")]
    assert order == ["s01", "s02", "s03", "s04", "s05", "s00"], text


def _owned_by_workers(folder: Path) -> bool:
    """Whether a work folder belongs to a ``dask worker`` process (of the loopback cluster)."""
    try:
        pid = (folder / OWNER_FILE).read_text().rpartition(":")[2]
        status = Path(f"/proc/{pid}/status").read_text()
        parent = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid"))
        lines = (Path(f"/proc/{p}/cmdline").read_bytes() for p in (pid, parent))
        return any(b"dask_worker" in line for line in lines)
    except (OSError, StopIteration):
        return False


def test_quiet_housekeeping_reaches_processes_started_by_hand():
    """The variables docs/batch.md exports give a fresh ``dask worker`` the same settings
    as the local cluster's, so a misspelt name (Dask would ignore it) fails here."""
    from grader.batch.dispatch import QUIET_DASK, grading_dask_environment

    env = {**os.environ, **grading_dask_environment()}
    code = (
        "import json, sys, dask, distributed; "
        "print(json.dumps({k: dask.config.get(k) for k in json.loads(sys.argv[1])}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(list(QUIET_DASK))],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seen = json.loads(out)
    defaults = subprocess.run(
        [sys.executable, "-c", code, json.dumps(list(QUIET_DASK))],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("DASK_")},
    ).stdout
    assert json.loads(defaults) != seen, "the settings must differ from Dask's defaults"
    assert {k: str(v) for k, v in seen.items()} == {k: str(v) for k, v in QUIET_DASK.items()}
    for variable in grading_dask_environment():
        assert variable in (TOY.parents[2] / "docs" / "batch.md").read_text(), (
            f"docs/batch.md lacks {variable}"
        )


def test_a_scheduler_without_workers_is_a_clear_error(tmp_path, monkeypatch):
    """Waits for a first worker (started with the batch, it joins a few seconds later),
    then says which scheduler has none and how to start one: not a hang, not a traceback."""
    from grader.batch import dispatch
    from grader.errors import MachineError

    monkeypatch.setattr(dispatch, "FIRST_WORKER_WAIT_S", 2)
    with loopback_cluster(0, tmp_path) as address:
        started = time.monotonic()
        with pytest.raises(MachineError, match=f"{address} has no worker after 2 s"):
            dispatch.Dispatcher(1, address)
        assert time.monotonic() - started < 30
