"""Where grading runs: a Dask cluster, local on loopback by default, or an existing one.

The same code path serves both: ``Dispatcher`` hands out one task per submission
(:mod:`grader.batch.tasks`) and yields results as they finish. A task grades one notebook
in the worker process (which starts the sandboxed kernel there) and returns the results
document as JSON text and the figures; this process writes every report.

Work that needs a GPU asks for the Dask resource ``GPU=1`` when some worker offers it
(``dask worker ADDRESS --resources GPU=1``); otherwise it is graded on any worker and its
GPU criteria wait as "needs a GPU", as in a single ``grader grade``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator
from typing import Any

from grader.batch.bundle import Bundle
from grader.batch.tasks import (
    Task,
    environment,
    environment_mismatch,
    grade_task,
    start_first_kernel,
)
from grader.errors import MachineError
from grader.runners.zygote import Recipe, Zygote

log = logging.getLogger(__name__)
#: Times a task that failed for the grader's own reasons is run again.
RETRIES = 2
#: How long a batch on a scheduler waits for its first worker: workers started at the
#: same time as the batch (a script, a job array) join a few seconds after it connects.
FIRST_WORKER_WAIT_S = 60

#: Dask's housekeeping, slowed to what grading needs. Its defaults serve interactive
#: analytics: every process checks its event loop every 20 ms, samples CPU, memory and
#: disk every 0.5 s, and the nannies read their worker's memory every 0.1 s. On a 2-core
#: machine an idle local cluster of two workers burnt 0.08-0.10 CPU s per second that
#: way, 0.25 CPU s per backprop submission taken from the kernels; with these values
#: 0.014 (docs/benchmarks.md, "Where the second core goes"). Memory is bounded per
#: kernel by the runner's own limits, not by the nannies' monitor.
#: Grading never reads Dask's statistical profiler either (~0.15 s of CPU per
#: submission, ~20 MB per worker).
QUIET_DASK = {
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.disk": False,
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.worker.profile.enabled": False,
}


def grading_dask_environment() -> dict[str, str]:
    """:data:`QUIET_DASK` as the ``DASK_*`` variables a ``dask scheduler`` or ``dask
    worker`` started by hand reads (docs/batch.md shows them for a cluster of machines)."""
    return {
        "DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
        for key, value in QUIET_DASK.items()
    }


def last_without_next_kernel(tasks: list[Task], workers: int) -> list[Task]:
    """``tasks`` with the last ``workers`` of them marked ``warm_next=False``.

    :meth:`Dispatcher.run` hands them out in the list's order, one per free slot, so each
    of the last ``workers`` is some slot's last.
    """
    first_last = len(tasks) - workers
    return [
        dataclasses.replace(task, warm_next=False) if index >= first_last else task
        for index, task in enumerate(tasks)
    ]


def default_workers() -> int:
    """Half the cores (a kernel and its BLAS threads keep about two busy), at least one,
    and at least as many as the machine has GPUs."""
    from grader.runners.gpu_slots import host_gpus

    return max(1, (os.cpu_count() or 2) // 2, len(host_gpus()))


class Dispatcher:
    """A Dask client on a local loopback cluster, or on the scheduler at ``address``.

    A local cluster's workers fork their kernels from one zygote made by ``zygote``,
    started here first: it imports while the cluster starts, and once for all workers.
    """

    def __init__(
        self, workers: int, address: str | None = None, zygote: Recipe | None = None
    ) -> None:
        #: The local cluster's shared zygote by its recipe's key (none if it did not start).
        self.zygotes: dict[str, Zygote] = {}
        if zygote is not None and not address:
            try:
                self.zygotes[zygote.key] = zygote.start()
            except Exception as exc:  # noqa: BLE001 - each worker then starts its own
                log.warning("no shared kernel zygote: %s", exc)
        import dask
        from dask.distributed import Client, LocalCluster

        dask.config.set(QUIET_DASK)

        self.cluster = None
        #: One line per worker refused for a different environment.
        self.refused: list[str] = []
        if address:
            self.client = Client(address, timeout="30s")
            try:
                self.client.wait_for_workers(1, timeout=FIRST_WORKER_WAIT_S)
            except TimeoutError:
                self.client.close()
                raise MachineError(
                    f"the scheduler at {address} has no worker after {FIRST_WORKER_WAIT_S} s: "
                    f"start some with `dask worker {address} --nthreads 1`"
                ) from None
        else:
            from grader.batch import local_workers

            dask.config.set(local_workers.dask_settings())
            local_workers.start_server()  # running already when the command started it
            self.cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # Grading starts kernels (subprocesses): workers must not be daemonic.
                worker_class="distributed.Nanny",
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster)
        from grader.batch.worker import WarmKernels

        # Local workers are forked from a server started with the command: they get the
        # environment as it is now (the command's log file), as spawned ones did.
        environ = dict(os.environ) if self.cluster is not None else None
        shared = {key: started.reference() for key, started in self.zygotes.items()}
        self.client.register_plugin(WarmKernels(environ, shared))

    @property
    def description(self) -> str:
        info = self.client.scheduler_info()
        kind = "local cluster" if self.cluster else f"scheduler {info.get('address', '?')}"
        return f"{kind}, {len(info.get('workers', {}))} worker(s)"

    def gpu_workers(self) -> int:
        workers = self.client.scheduler_info().get("workers", {}).values()
        return sum(1 for w in workers if w.get("resources", {}).get("GPU", 0) >= 1)

    def on_each_worker(self, func: Any, *args: Any) -> dict[str, Any]:
        """``func(*args)`` as a task on every worker (its task thread): address -> result."""
        addresses = sorted(self.client.scheduler_info().get("workers", {}))
        futures = self.submit_to_each(addresses, func, *args)
        return dict(zip(futures, self.client.gather(list(futures.values())), strict=True))

    def submit_to_each(
        self, addresses: list[str], func: Any, *args: Any, loose: bool = False
    ) -> dict[str, Any]:
        """``func(*args)`` as a task on each of the workers at ``addresses``: address ->
        future (``loose``: on another worker where that one is gone)."""
        return {
            address: self.client.submit(
                func,
                *args,
                key=f"{func.__name__}-{os.urandom(4).hex()}",
                workers=[address],
                allow_other_workers=loose,
                pure=False,
            )
            for address in addresses
        }

    def slots(self, workers: list[str], resources: dict[str, int] | None) -> list[str]:
        """One address per grading ``workers`` run at once: per thread, or per GPU."""
        info = self.client.scheduler_info().get("workers", {})
        slots = []
        for address in workers:
            found = info.get(address, {})
            if resources:
                count = int(found.get("resources", {}).get("GPU", 0))
            else:
                count = int(found.get("nthreads", 1))
            slots += [address] * count
        return slots or workers

    def usable_workers(self, expected: dict[str, str]) -> list[str]:
        """Workers whose environment matches the client's; each other one is refused in
        :attr:`refused` with one line naming it and what differs.

        The check runs as a task on each worker (in its task thread, like grading), not in
        the worker's event loop, which must keep answering the scheduler meanwhile. It
        calls only :func:`environment_mismatch`, which every dlgrader's workers have.
        """
        found = self.on_each_worker(environment_mismatch, expected)
        self.refused = [
            f"worker {address} refused: {why}" for address, why in sorted(found.items()) if why
        ]
        return sorted(address for address, why in found.items() if not why)

    def run(
        self, tasks: list[Task], needs_gpu: bool, bundle: Bundle
    ) -> Iterator[tuple[Task, dict[str, Any] | None, str]]:
        """Yield (task, what the worker returned or None, error text) as each task ends.

        A task that fails for the grader's own reasons (a worker lost, an exception in
        grading code) is retried, on another worker where Dask can, up to
        :data:`RETRIES` times; after that it comes back with its error and no result.
        """
        from dask.distributed import as_completed

        expected = environment()
        workers = self.usable_workers(expected)
        if not workers:
            raise MachineError(
                "no worker can grade: "
                + ("; ".join(self.refused) or "the cluster has none")
                + ": install the client's dlgrader and frameworks on the workers"
            )
        resources = {"GPU": 1} if needs_gpu and self.gpu_workers() else None
        # The bundle goes to each worker once; every task refers to the same data.
        shared = self.client.scatter(bundle.data, hash=False)
        # Submitted first, so each worker runs it before its first grading; not where some
        # worker would get no submission (its kernel would only take a core from others).
        # Each worker's first grading depends on it: the two reach the scheduler as separate
        # messages, not always in the order sent. Loose, so a worker lost meanwhile holds
        # up no grading.
        first_kernels = (
            self.submit_to_each(workers, start_first_kernel, tasks[0], shared, loose=True)
            if resources is None and len(tasks) >= len(workers)
            else {}
        )
        # One grading in flight per slot (a worker thread, or a GPU), the next one sent to
        # the slot's worker as one ends: the gradings run in the list's order, each on the
        # first worker free. Submitted all at once, Dask shares them out up front and runs
        # each worker's share in an order of its own (within 100 ms, submissions tie), and
        # one whose share ran short sits idle while another still has several.
        slots = self.slots(workers, resources)
        waiting = iter(last_without_next_kernel(tasks, len(slots)))
        futures: dict[Any, tuple[Task, str]] = {}
        running = as_completed()

        def send_next(address: str) -> None:
            task = next(waiting, None)
            if task is None:
                return
            future = self.client.submit(
                grade_task,
                task,
                shared,
                expected,
                first_kernels.pop(address, None),
                key=f"grade-{task.student}-{os.urandom(4).hex()}",
                resources=resources,
                # Another worker where this one is gone (the retry of a lost task too).
                workers=[address],
                allow_other_workers=True,
                pure=False,
                retries=RETRIES,
            )
            futures[future] = (task, address)
            running.add(future)

        for address in slots:
            send_next(address)
        for future in running:
            task, address = futures.pop(future)
            send_next(address)
            try:
                yield task, future.result(), ""
            except Exception as exc:  # noqa: BLE001 - the grader failed, not the student
                yield task, None, f"{type(exc).__name__}: {exc}"[:500]

    def close(self) -> None:
        if self.cluster is None:
            # A cluster that outlives the batch: its workers' waiting kernels go now.
            from grader.batch.worker import close_worker_pool

            try:
                # As a task on each worker: in the thread that started the kernel.
                self.on_each_worker(close_worker_pool)
            except Exception as exc:  # noqa: BLE001 - workers gone; nothing left to close
                log.debug("closing the workers' kernel pools: %s", exc)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        for started in self.zygotes.values():
            started.close()  # after the workers: none forks a kernel from it now
