"""What a batch worker runs: one submission's grading, its first kernel, and the check
that the worker's installation matches the client's.

The client (:mod:`grader.batch.dispatch`) sends these to Dask workers by reference, so
each worker imports this module; everything a task needs travels in the :class:`Task`
and the assignment's bundle, nothing as a path on the client.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.course import Assignment

log = logging.getLogger(__name__)


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
    from grader.runners.choice import build_runner

    assignment = _assignment_at(materialise(task.bundle, bundle), task.assignment)
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


@functools.lru_cache(maxsize=8)
def _assignment_at(course_root: Path, name: str) -> Assignment:
    """The assignment ``name`` of the course unpacked at ``course_root``, loaded once per
    worker: a bundle's folder is named by its content's hash, so what is there never
    changes, and reading the course, the assignment and the rubric (YAML, and every test
    file parsed to check the rubric's names) took ~0.05 CPU s of every grading. The rubric
    is an ``Assignment``'s cached property: loaded by the first grading, kept after."""
    from grader.course import find_course

    return find_course(course_root).assignment(name)


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
