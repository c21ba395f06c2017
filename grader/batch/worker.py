"""What each Dask worker keeps between gradings: its kernel pool.

Imported only in worker processes and by the dispatcher that registers the plugin, so
commands that never start a cluster do not import Dask.
"""

from __future__ import annotations

import gc
import os
from typing import Any

from distributed.core import Status
from distributed.diagnostics.plugin import WorkerPlugin

from grader.runners.warm import KernelPool
from grader.runners.zygote import Zygote


class WarmKernels(WorkerPlugin):
    """Each worker's kernel pool: the next submission's kernel starts during this one's tests.

    The pool lives as long as the worker, so its last waiting kernel is killed when the
    worker closes. Setting up also imports the grading code, which the first task would
    otherwise import on its own clock.
    """

    name = "dlgrader-warm-kernels"

    def __init__(
        self,
        environ: dict[str, str] | None = None,
        zygotes: dict[str, dict[str, str | int]] | None = None,
    ) -> None:
        #: The client's environment, for a worker of its local cluster: forked from a
        #: server that started with the command, it lacks what the command set since.
        self.environ = environ
        #: Zygotes the client started for its local cluster's workers to share (recipe key
        #: -> :meth:`~grader.runners.zygote.Zygote.reference`).
        self.zygotes = zygotes or {}

    def setup(self, worker: Any) -> None:
        if self.environ is not None:
            os.environ.clear()
            os.environ.update(self.environ)
        import grader.pipeline  # noqa: F401 - imported now, not during the first grading
        from grader.logfile import adopt_in_worker

        adopt_in_worker()
        self.pool = KernelPool()
        for key, reference in self.zygotes.items():
            self.pool.adopt(key, Zygote.attach(reference))

    def teardown(self, worker: Any) -> None:
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.close()
        if worker.status in (Status.closing, Status.closing_gracefully):
            # The worker process ends next: the collector's passes over every object at
            # interpreter exit took 0.2 s of each worker's stop, while the batch's summary
            # is written. Not for a worker that lives on (a later batch replaces the plugin).
            gc.freeze()


def worker_pool() -> KernelPool | None:
    """This Dask worker's kernel pool; None outside a worker (or one without the plugin)."""
    try:
        from distributed import get_worker

        plugin = get_worker().plugins.get(WarmKernels.name)
    except ValueError:  # not running in a worker
        return None
    return getattr(plugin, "pool", None)


def close_worker_pool() -> int:
    """Kill this worker's waiting kernel (run on every worker when a batch ends)."""
    pool = worker_pool()
    if pool is not None:
        pool.close()
    return 0
