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

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """What a worker needs to grade one submission (plain strings: it crosses processes)."""

    student: str
    notebook: str
    course: str
    assignment: str
    out_dir: str
    sandbox: str = "auto"
    #: "local" or "docker"; the Docker runner labels its containers with ``batch``.
    runner: str = "local"
    batch: str = ""
    #: Why the file cannot be graded (not a notebook, an unsafe archive): a row, no kernel.
    problem: str | None = None
    #: What unpacking the student's archive left out, for the report.
    notes: tuple[str, ...] = ()


def grade_task(task: Task) -> str:
    """Grade one submission in this worker; return its results document as JSON.

    Never raises for the submission's faults (the pipeline turns them into a result); an
    exception here means the grader itself failed, and the batch records that instead.
    """
    from grader.batch.worker import worker_pool
    from grader.course import find_course
    from grader.pipeline import grade, write_outputs
    from grader.runners.choice import build_runner

    assignment = find_course(Path(task.course)).assignment(task.assignment)
    settings = assignment.course.config.docker
    runner = build_runner(
        task.runner,  # type: ignore[arg-type]
        task.sandbox,
        settings,
        batch=task.batch or None,
        pool=worker_pool(),
        warm_imports=assignment.config.imports_to_warm(),
    )
    run = grade(
        assignment, Path(task.notebook), runner=runner, problem=task.problem, notes=task.notes
    )
    write_outputs(run, Path(task.out_dir), assignment.course.templates_dir)
    return run.result.model_dump_json()


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

        # Dask's statistical profiler samples every worker thread; grading never reads it,
        # and it costs ~0.15 s of CPU per submission and ~20 MB per worker.
        dask.config.set({"distributed.worker.profile.enabled": False})

        self.cluster = None
        if address:
            self.client = Client(address, timeout="30s")
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

    def run(self, tasks: list[Task], needs_gpu: bool) -> Iterator[tuple[Task, str | None, str]]:
        """Yield (task, results JSON or None, error text) as each task finishes."""
        from dask.distributed import as_completed

        resources = {"GPU": 1} if needs_gpu and self.gpu_workers() else None
        futures = {}
        for task in tasks:
            future = self.client.submit(
                grade_task,
                task,
                key=f"grade-{task.student}-{os.urandom(4).hex()}",
                resources=resources,
                pure=False,
                retries=0,
            )
            futures[future] = task
        for future in as_completed(futures):
            task = futures[future]
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
                workers = list(self.client.scheduler_info().get("workers", {}))
                closing = [
                    self.client.submit(
                        close_worker_pool,
                        key=f"close-pool-{os.urandom(4).hex()}",
                        workers=[address],
                        allow_other_workers=False,
                        pure=False,
                    )
                    for address in workers
                ]
                self.client.gather(closing)
            except Exception as exc:  # noqa: BLE001 - workers gone; nothing left to close
                log.debug("closing the workers' kernel pools: %s", exc)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
