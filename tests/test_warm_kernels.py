"""A batch worker's kernel started ahead of time: used once, like a cold one, never left behind.

Real sandboxed kernels. ``colorsys`` stands in for a framework: nothing in ipykernel
imports it, so finding it in ``sys.modules`` shows the waiting kernel's import happened.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from grader import kernels
from grader.config import Limits
from grader.execute import run_notebook
from grader.runners.local import LocalRunner, gpu_present
from grader.runners.warm import KernelPool
from grader.runners.workdirs import OWNER_FILE, new_workdir, reap_orphans
from grader.runners.zygote import Zygote, zygote_allowed
from grader.testing.live import notebook_from_cells


@pytest.fixture(autouse=True)
def kernels_started_not_forked(monkeypatch):
    """These tests tell a waiting kernel from a cold one by what it has imported; a kernel
    forked from a zygote has imported everything already (tests/test_sandbox.py)."""
    monkeypatch.setenv("GRADER_ZYGOTE", "off")


LIMITS = Limits(cell_timeout=20, notebook_timeout=60, request_timeout=20)
PROBE_CELLS = [
    "import sys\nimported = 'colorsys' in sys.modules",
    "names = sorted(n for n in dir() if not n.startswith('_'))",
]


def grade_like(runner: LocalRunner, limits: Limits = LIMITS) -> tuple[dict, Path]:
    """Run the probe cells as a grading does (asking for the next kernel after the cells)."""
    nb = notebook_from_cells(PROBE_CELLS)
    with runner.session(limits) as session, run_notebook(nb, session, limits) as run:
        session.prepare_next()
        seen = {
            "imported": run.bridge.get("imported"),
            "names": run.bridge.get("names"),
            "counts": [c.execution_count for c in nb.cells],
            "history": run.bridge.get("In")[1:],
        }
        return seen, session.workdir


def waiting_kernel(pool: KernelPool):
    assert pool._waiting is not None, "the session should have left a kernel waiting"
    return pool._waiting


def test_a_warm_kernel_serves_the_next_submission_as_a_cold_one_would():
    pool = KernelPool()
    warm_runner = LocalRunner(pool=pool, warm_imports=("colorsys",))
    try:
        cold, _ = grade_like(LocalRunner())
        first, first_dir = grade_like(warm_runner)  # cold too: the pool was empty
        waiting = waiting_kernel(pool).box.workdir
        second, second_dir = grade_like(warm_runner)
    finally:
        pool.close()
    assert pool.used == 1 and pool.discarded == 0
    assert second_dir == waiting != first_dir, "the next session ran in the waiting kernel"
    assert not first_dir.exists() and not second_dir.exists()
    # A worker's first kernel starts cold, unless a zygote that imported colorsys forks it.
    forked = zygote_allowed(warm_runner.sandbox, gpu_present(), ("colorsys",))
    assert (cold["imported"], first["imported"], second["imported"]) == (False, forked, True)
    # Nothing else differs: no name bound, execution counts and history start afresh.
    for seen in (first, second):
        assert seen["names"] == cold["names"]
        assert seen["counts"] == cold["counts"] == [1, 2]
        assert seen["history"] == cold["history"] == PROBE_CELLS


def test_a_kernel_warmed_up_ahead_serves_the_first_session():
    pool = KernelPool()
    runner = LocalRunner(pool=pool, warm_imports=("colorsys",))
    try:
        runner.warm_up(LIMITS)
        waiting = waiting_kernel(pool).box.workdir
        first, first_dir = grade_like(runner)
    finally:
        pool.close()
    assert pool.used == 1 and first_dir == waiting and first["imported"] is True
    assert first["counts"] == [1, 2]


def test_a_waiting_kernel_of_another_kind_is_thrown_away_and_removed():
    pool = KernelPool()
    runner = LocalRunner(pool=pool, warm_imports=("colorsys",))
    try:
        grade_like(runner)
        waiting = waiting_kernel(pool)
        folder, manager = waiting.box.workdir, waiting.box.manager
        other = LIMITS.model_copy(update={"request_timeout": 19})
        seen, used = grade_like(runner, other)
    finally:
        pool.close()
    assert used != folder and seen["imported"] is False
    assert pool.used == 0 and pool.discarded >= 1
    assert not folder.exists() and not kernels.call(manager, "is_alive")


def test_a_kernel_that_died_while_waiting_is_replaced_by_a_cold_start():
    pool = KernelPool()
    runner = LocalRunner(pool=pool, warm_imports=("colorsys",))
    try:
        grade_like(runner)
        waiting = waiting_kernel(pool)
        kernels.call(waiting.box.manager, "shutdown_kernel", now=True)
        seen, used = grade_like(runner)
    finally:
        pool.close()
    assert used != waiting.box.workdir and not waiting.box.workdir.exists()
    assert pool.used == 0 and seen["imported"] is False and seen["counts"] == [1, 2]


def test_closing_the_pool_kills_the_waiting_kernel_and_removes_its_folder():
    pool = KernelPool()
    grade_like(LocalRunner(pool=pool))
    waiting = waiting_kernel(pool)
    assert kernels.call(waiting.box.manager, "is_alive") and waiting.box.workdir.exists()
    pool.close()
    assert not kernels.call(waiting.box.manager, "is_alive")
    assert not waiting.box.workdir.exists() and pool._waiting is None


def test_folders_of_killed_graders_are_reaped_and_others_kept():
    dead = new_workdir()
    (dead / OWNER_FILE).write_text(f"{socket.gethostname()}:{2**22 + 12345}")  # no such pid
    other_host = new_workdir()
    (other_host / OWNER_FILE).write_text("some-other-host:1")
    unmarked = new_workdir()
    (unmarked / OWNER_FILE).unlink()
    mine = new_workdir()
    try:
        assert (mine / OWNER_FILE).read_text().endswith(f":{os.getpid()}")
        reap_orphans()
        assert not dead.exists()
        assert other_host.exists() and unmarked.exists() and mine.exists()
    finally:
        for folder in (dead, other_host, unmarked, mine):
            if folder.exists():
                for child in folder.iterdir():
                    child.unlink()
                folder.rmdir()


@pytest.mark.parametrize("modules", [["torch; import os"], ["os", "../x"], [""]])
def test_warm_imports_must_be_module_names(modules):
    from pydantic import ValidationError

    from grader.config import AssignmentConfig

    with pytest.raises(ValidationError, match="warm_imports"):
        AssignmentConfig(name="lab", title="Lab", framework="numpy", warm_imports=modules)
    lab = AssignmentConfig(name="lab", title="Lab", framework="keras")
    assert lab.imports_to_warm() == ("tensorflow", "matplotlib.pyplot")
    off = AssignmentConfig(name="lab", title="Lab", framework="keras", warm_imports=[])
    assert off.imports_to_warm() == ()


class _EndedZygote:
    """A zygote whose process has exited (the pool only asks ``alive`` and ``close``)."""

    def __init__(self) -> None:
        self.closed = False

    def alive(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


def test_a_zygote_that_ends_is_replaced_once_then_its_kind_starts_cold():
    pool = KernelPool()
    made: list[_EndedZygote] = []

    def start():
        made.append(_EndedZygote())
        return made[-1]

    assert pool.zygote("kind", start) is made[0]
    assert pool.zygote("kind", start) is made[1] and made[0].closed
    assert pool.zygote("kind", start) is None and made[1].closed
    assert pool.zygote("kind", start) is None and len(made) == 2


def test_a_zygote_that_cannot_start_leaves_its_kind_cold_without_retrying():
    pool = KernelPool()
    tries = []

    def start():
        tries.append(1)
        raise OSError("no such interpreter")

    assert pool.zygote("kind", start) is None
    assert pool.zygote("kind", start) is None and len(tries) == 1


class _SharedZygote(_EndedZygote):
    """A zygote another process started: alive until told otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.running = True

    def alive(self) -> bool:
        return self.running


def test_an_adopted_zygote_serves_its_recipe_until_it_ends_then_the_pool_starts_its_own():
    pool = KernelPool()
    shared, made = _SharedZygote(), []

    def start():
        made.append(_SharedZygote())
        return made[-1]

    pool.adopt("recipe", shared)
    assert pool.zygote("recipe", start) is shared and not made
    assert pool.zygote("other recipe", start) is made[0]
    shared.running = False
    assert pool.zygote("recipe", start) is made[1]


def test_an_attached_zygote_is_used_and_left_to_the_process_that_started_it(tmp_path):
    """What a worker attaches from the command's reference: alive while the command's
    zygote runs; closing it in the worker ends nothing, closing the command's does."""
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    owned = Zygote(owner.pid, tmp_path, owner)
    try:
        attached = Zygote.attach(json.loads(json.dumps(owned.reference())))
        assert attached.alive()
        attached.close()
        assert owner.poll() is None and tmp_path.exists()
        owned.close()
        assert not attached.alive() and not tmp_path.exists()
    finally:
        owner.kill()
        owner.wait()
