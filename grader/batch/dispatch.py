"""Where grading runs: a Dask cluster, local on loopback by default, or an existing one.

The same code path serves both: ``Dispatcher`` submits one task per submission and
yields results as they finish. A task grades one notebook in the worker process (which
starts the sandboxed kernel there), writes its reports next to the batch's outputs and
returns the results document as JSON text, validated again when it arrives.

Work that needs a GPU asks for the Dask resource ``GPU=1`` when some worker offers it
(``dask worker ADDRESS --resources GPU=1``); otherwise it is graded on any worker and its
GPU criteria wait as "needs a GPU", as in a single ``grader grade``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.batch.bundle import Bundle
from grader.errors import MachineError

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
#: Every Dask setting a batch uses, for a local cluster and for processes started by hand.
GRADING_DASK = QUIET_DASK


def grading_dask_environment() -> dict[str, str]:
    """:data:`GRADING_DASK` as the ``DASK_*`` variables a ``dask scheduler`` or ``dask
    worker`` started by hand reads (docs/batch.md shows them for a cluster of machines)."""
    return {
        "DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
        for key, value in GRADING_DASK.items()
    }


@dataclass(frozen=True)
class Task:
    """What a worker needs to grade one submission; nothing in it is a path on the client.

    The notebook travels as bytes; the assignment's grading files travel separately, once
    per worker, as the bundle named by ``bundle`` (:mod:`grader.batch.bundle`).
    """

    student: str
    notebook_name: str
    notebook: bytes
    assignment: str
    bundle: str  # the grading bundle's content hash
    sandbox: str = "auto"
    #: "local" or "docker"; the Docker runner labels its containers with ``batch``.
    runner: str = "local"
    batch: str = ""
    #: What unpacking the student's archive left out, for the report.
    notes: tuple[str, ...] = ()
    #: Whether the worker should start a kernel for its next submission during this one's
    #: tests. Not for the batch's last submissions, after which no worker has a next one:
    #: that kernel and its framework imports (TensorFlow: 3-5 CPU s) would only compete
    #: with the submissions still running.
    warm_next: bool = True


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


def grade_task(
    task: Task, bundle: bytes, expected: dict[str, str], after: None = None
) -> dict[str, Any]:
    """Grade one submission in this worker; return the results document and the figures.

    ``after`` is the result of the worker's :func:`start_first_kernel` for its first
    grading: a dependency only, so that Dask runs this grading after it.

    The worker writes nothing the client needs: the client renders the reports and keeps
    the gradebook. Never raises for the submission's faults (the pipeline turns them into
    a result); an exception here is the grader's own failure, and the batch retries it.
    ``expected`` is the client's environment: a worker that differs refuses the task.
    """
    import shutil
    import tempfile

    from grader.pipeline import grade

    mismatch = environment_mismatch(expected)
    if mismatch:
        raise WorkerMismatch(mismatch)
    assignment, runner = _grading_setup(task, bundle)
    folder = Path(tempfile.mkdtemp(prefix="dlgrader-task-"))
    try:
        notebook = folder / Path(task.notebook_name).name
        notebook.write_bytes(task.notebook)
        run = grade(assignment, notebook, runner=runner, notes=task.notes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures = [
        {"cell": f.cell, "png": f.png, "width": f.width, "height": f.height} for f in run.figures
    ]
    return {"results": run.result.model_dump_json(), "figures": figures}


def start_first_kernel(task: Task, bundle: bytes) -> None:
    """Start, in this worker's pool, the kernel its first grading of ``task``'s kind
    will take, as it starts one for each next grading during a grading's tests.

    Sent to every usable worker as a batch begins, ahead of the gradings, so the kernel
    boots and imports while the batch is still handing out its first submissions.
    """
    from grader.pipeline import warm_up

    try:
        assignment, runner = _grading_setup(task, bundle, expect_more=True)
        warm_up(assignment, runner)
    except Exception as exc:  # noqa: BLE001 - the first grading then starts its own kernel
        log.warning("could not start a first kernel ahead of time: %s", exc)


def _grading_setup(task: Task, bundle: bytes, expect_more: bool | None = None) -> tuple[Any, Any]:
    """The assignment ``task`` is for, unpacked from ``bundle``, and a runner that uses
    this worker's kernel pool; ``expect_more`` (default: the task's ``warm_next``) says
    whether a kernel started for a next grading will be used."""
    from grader.batch.bundle import materialise
    from grader.batch.worker import worker_pool
    from grader.course import find_course
    from grader.runners.choice import build_runner

    assignment = find_course(materialise(task.bundle, bundle)).assignment(task.assignment)
    pool = worker_pool()
    if pool is not None:
        pool.expect_more = task.warm_next if expect_more is None else expect_more
    runner = build_runner(
        task.runner,  # type: ignore[arg-type]
        task.sandbox,
        assignment.course.config.docker,
        batch=task.batch or None,
        pool=pool,
        warm_imports=assignment.config.imports_to_warm(),
    )
    return assignment, runner


class WorkerMismatch(RuntimeError):
    """This worker's dlgrader, kernel-side code or frameworks differ from the client's."""


@functools.cache
def environment() -> dict[str, str]:
    """What must match between the client and a worker for the same verdicts (read once
    per process: a worker's installation does not change under it)."""
    import importlib.metadata

    from grader import __version__
    from grader.runners.docker_image import kernel_digest

    found = {"dlgrader": __version__, "kernel-side code": kernel_digest()}
    for package in ("numpy", "torch", "tensorflow-cpu", "tensorflow", "scikit-learn"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "absent"
    return found


def environment_mismatch(expected: dict[str, str]) -> str:
    """One line naming what differs from ``expected`` here, or "" when nothing does."""
    here = environment()
    differ = [
        f"{key} {here.get(key, 'absent')} (the client has {value})"
        for key, value in expected.items()
        if here.get(key, "absent") != value
    ]
    return "; ".join(differ)


def default_workers() -> int:
    """Half the cores (a kernel and its BLAS threads keep about two busy), at least one,
    and at least as many as the machine has GPUs."""
    from grader.runners.gpu_slots import host_gpus

    return max(1, (os.cpu_count() or 2) // 2, len(host_gpus()))


class Dispatcher:
    """A Dask client on a local loopback cluster, or on the scheduler at ``address``."""

    def __init__(self, workers: int, address: str | None = None) -> None:
        import dask
        from dask.distributed import Client, LocalCluster

        dask.config.set(GRADING_DASK)

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

        self.client.register_plugin(WarmKernels())

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
        return dict(zip(addresses, self.client.gather(futures), strict=True))

    def submit_to_each(
        self, addresses: list[str], func: Any, *args: Any, loose: bool = False
    ) -> list[Any]:
        """``func(*args)`` as a task on each of the workers at ``addresses``: the futures
        (``loose``: on another worker where that one is gone)."""
        return [
            self.client.submit(
                func,
                *args,
                key=f"{func.__name__}-{os.urandom(4).hex()}",
                workers=[address],
                allow_other_workers=loose,
                pure=False,
            )
            for address in addresses
        ]

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
            dict(
                zip(
                    workers,
                    self.submit_to_each(workers, start_first_kernel, tasks[0], shared, loose=True),
                    strict=True,
                )
            )
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
