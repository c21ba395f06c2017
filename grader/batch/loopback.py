"""A Dask cluster of separate processes on 127.0.0.1: a scheduler and its workers.

``grader batch`` starts its own local cluster; this one is for showing (and testing) that
the ``--scheduler`` path works as it would across machines: every worker is its own
``dask worker`` process that knows the scheduler only by its address.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def loopback_cluster(
    workers: int,
    folder: Path,
    timeout_s: float = 120,
    wrapper: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Start ``dask scheduler`` and ``workers`` ``dask worker`` processes; yield the address.

    Returns once every worker has joined; stops them all on the way out. ``wrapper`` is a
    command each process runs under (a mount namespace that hides the course, say: see
    :func:`hidden_from`); ``folder`` must stay visible to them, it holds the scheduler file.
    """
    from dask.distributed import Client

    from grader.batch.dispatch import grading_dask_environment

    # As an instructor starts them by hand (docs/batch.md): Dask's housekeeping slowed down.
    env = {**os.environ, **grading_dask_environment(), **(env or {})}
    scheduler_file = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
    scheduler += ["--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)]
    processes = [subprocess.Popen([*wrapper, *scheduler], env=env, **quiet)]
    try:
        deadline = time.monotonic() + timeout_s
        while not scheduler_file.exists():
            if time.monotonic() > deadline or processes[0].poll() is not None:
                raise RuntimeError("the Dask scheduler did not start")
            time.sleep(0.1)
        worker = [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file"]
        worker += [str(scheduler_file), "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"]
        processes += [
            subprocess.Popen([*wrapper, *worker], env=env, **quiet) for _ in range(workers)
        ]
        address = json.loads(scheduler_file.read_text())["address"]
        if workers:
            with Client(address, timeout="30s") as client:
                client.wait_for_workers(workers, timeout=timeout_s)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def hidden_from(*visible: Path) -> list[str]:
    """A bubblewrap command line for a process that sees its own, empty /tmp.

    Everything under /tmp (a test's course folder, submissions and output) is hidden from
    it, as on a machine that shares nothing with the client but the scheduler's address;
    ``visible`` folders (the scheduler file's) are bound back in, and so, read-only, are
    this interpreter's environment and the grader's code where they lie under /tmp (a
    checkout cloned there): without them no worker could start.
    """
    argv = ["bwrap", "--dev-bind", "/", "/", "--tmpfs", "/tmp", "--die-with-parent"]
    for path in own_code_under_tmp():
        argv += ["--ro-bind", str(path), str(path)]
    for path in visible:
        argv += ["--bind", str(path), str(path)]
    return [*argv, "--"]


def own_code_under_tmp() -> list[Path]:
    """The virtualenv and the folder ``grader`` is imported from, those under /tmp."""
    import grader

    places = {Path(sys.prefix).resolve(), Path(grader.__file__).resolve().parent.parent}
    return sorted(p for p in places if p.is_relative_to("/tmp"))
