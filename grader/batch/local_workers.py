"""A local cluster's workers, forked from a server that imported the grading code once.

Spawned, each worker of a local cluster was a fresh Python that imported the command's
main module (all of :mod:`grader.cli`), Dask and the grading code on its own: 1.0-1.3 CPU
s each on a 2-core VM, on every batch's critical path, while its kernels waited. Python's
*forkserver* start method runs one single-threaded server that imports :data:`PRELOAD`
and forks each worker from itself. Started as the command begins, it imports beside the
command's own imports on the other core, and the workers then start in milliseconds.

Workers are not forked from the command's own process: it runs Dask's threads, and a
lock one of them held at the fork would stay held in the child. The server runs none.

Standard library only: the command line imports this before anything heavy.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
from collections.abc import Sequence

#: What the server imports before it forks a worker: the command line's main module (a
#: worker re-runs the main script, whose imports are then found done), Dask's worker,
#: and what a worker runs.
PRELOAD = (
    "grader.cli",
    "distributed",
    "distributed.nanny",
    "grader.batch.worker",
    "grader.batch.tasks",
    "grader.pipeline",
)
METHOD = "forkserver"


def available() -> bool:
    """Whether this platform can fork workers from a server (not Windows)."""
    return METHOD in multiprocessing.get_all_start_methods()


def start_server() -> None:
    """Start the server if it is not running; it starts importing, this returns at once.

    It lives as long as this process (it ends when this process's end closes its pipe),
    so a later batch in the same process reuses it.
    """
    if not available():
        return
    multiprocessing.get_context(METHOD).set_forkserver_preload(list(PRELOAD))
    multiprocessing.forkserver.ensure_running()


def dask_settings() -> dict[str, str]:
    """The Dask setting that makes a local cluster's nannies fork from the server."""
    return {"distributed.worker.multiprocessing-method": METHOD} if available() else {}


def wanted(argv: Sequence[str]) -> bool:
    """Whether these command-line arguments start a local cluster (``grader batch``
    without ``--scheduler`` or ``--help``), read before the command's modules import.

    A wrong guess costs only time: the server is started again where the cluster starts,
    and one nobody uses ends with the command.
    """
    if list(argv[:1]) != ["batch"]:
        return False
    for arg in argv[1:]:
        if arg in ("-h", "--help") or arg == "--scheduler" or arg.startswith("--scheduler="):
            return False
    return True
