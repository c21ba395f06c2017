"""A local cluster's workers come from a fork server started with the command.

They must behave as spawned workers did: the environment the command has when its
cluster starts (not the one the server started with), and nothing left running when the
command is killed on its own.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import psutil
import pytest
from test_batch_cluster import batch, make_class, rows

from grader.batch import local_workers
from grader.runners.local import gpu_present
from grader.runners.zygote import zygote_allowed

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("argv", "local"),
    [
        (["batch", "subs/", "-a", "lenet5"], True),
        (["batch", "subs/", "-a", "lenet5", "--workers", "2"], True),
        (["batch", "subs/", "-a", "lenet5", "--scheduler", "tcp://10.0.0.5:8786"], False),
        (["batch", "subs/", "-a", "lenet5", "--scheduler=tcp://10.0.0.5:8786"], False),
        (["batch", "--help"], False),
        (["grade", "nb.ipynb", "-a", "lenet5"], False),
        ([], False),
    ],
)
def test_the_server_starts_early_only_for_a_local_batch(argv, local):
    assert local_workers.wanted(argv) is local


def _worker_view() -> dict[str, object]:
    return {
        "parent": os.getppid(),
        "set_since": os.environ.get("DLGRADER_TEST_SET_SINCE"),
        "removed_since": os.environ.get("DLGRADER_TEST_REMOVED_SINCE"),
    }


def test_workers_fork_from_the_server_with_the_commands_environment_of_now(monkeypatch):
    """The server keeps the environment it started with; the workers must not: the
    command sets its log file's path after the server started."""
    from grader.batch.dispatch import Dispatcher

    monkeypatch.setenv("DLGRADER_TEST_REMOVED_SINCE", "stale")
    local_workers.start_server()
    monkeypatch.setenv("DLGRADER_TEST_SET_SINCE", "now")
    monkeypatch.delenv("DLGRADER_TEST_REMOVED_SINCE")
    dispatcher = Dispatcher(2)
    try:
        views = list(dispatcher.on_each_worker(_worker_view).values())
    finally:
        dispatcher.close()
    assert len(views) == 2
    for view in views:
        assert view["parent"] != os.getpid(), "spawned by this process, not forked"
        assert view["set_since"] == "now"
        assert view["removed_since"] is None


def _zygotes(processes: list[psutil.Process]) -> list[psutil.Process]:
    """The zygotes among ``processes`` (not the kernels forked from them, which share
    their command line)."""

    def is_zygote(process: psutil.Process) -> bool:
        try:
            return "grader.runners.zygote_server" in process.cmdline()
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            return False  # a kernel that ended after the listing: not a zygote

    return [p for p in processes if is_zygote(p) and not is_zygote(p.parent())]


def _described(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline()[:4])
    except (psutil.ZombieProcess, psutil.NoSuchProcess):
        return f"pid {process.pid} (ended, not reaped)"


def test_killing_the_command_alone_ends_its_server_workers_and_kernels(tmp_path):
    """SIGKILL to the command's process only (the OOM killer's way), not its group."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    make_class(subs, 6, pause_s=3)
    command = batch(subs, out, "--workers", "2", start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not rows(out) and time.monotonic() < deadline and command.poll() is None:
            time.sleep(0.2)
        assert rows(out), "the batch graded nothing in 120 s"
        started = psutil.Process(command.pid).children(recursive=True)
        assert len(started) >= 5, "server, two workers and their kernels"
        folders: list[Path] = []
        if zygote_allowed("bubblewrap", gpu_present(), ("numpy",)) and shutil.which("bwrap"):
            zygotes = _zygotes(started)
            assert [z.ppid() for z in zygotes] == [command.pid], "one, the command's"
            assert zygotes[0].children(), "the workers' kernels are forked from it"
            folders = [Path(z.cmdline()[3]).parent for z in zygotes]  # -m MODULE SOCKET
        os.kill(command.pid, signal.SIGKILL)
        command.wait()
        _, left = psutil.wait_procs(started, timeout=20)
        assert not left, f"left running: {[_described(p) for p in left]}"
        assert not [f for f in folders if f.exists()], "the zygote's folder was left"
    finally:
        try:
            os.killpg(command.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
