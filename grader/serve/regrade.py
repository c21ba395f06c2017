"""Regrading from the page: one student, or every flagged one, in a background thread.

Each notebook is graded again as ``grader batch --regrade`` grades it (the course's
runner, its outputs written to the student's folder, the attempt recorded in the
gradebook), one at a time in this process; marks live apart from attempts, so they
stay. The page shows a status that refreshes itself (``<meta http-equiv="refresh">``,
no script) until the job is done, then the summary is written again.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.summary import write_summary
from grader.pipeline import grade, write_outputs
from grader.runners.base import Runner
from grader.runners.choice import build_runner
from grader.serve.context import ServeContext


@dataclass
class Job:
    id: str
    students: list[str]
    done: list[str] = field(default_factory=list)
    current: str = ""
    errors: list[str] = field(default_factory=list)
    finished: bool = False

    @property
    def progress(self) -> str:
        return f"{len(self.done)} of {len(self.students)}"


class Regrader:
    """Jobs by id; one runs at a time (a regrade is CPU work, like a batch)."""

    def __init__(self, ctx: ServeContext) -> None:
        self.ctx = ctx
        self.jobs: dict[str, Job] = {}
        self._one_at_a_time = threading.Lock()

    def start(self, students: list[str]) -> Job:
        job = Job(secrets.token_hex(6), sorted(students))
        self.jobs[job.id] = job
        threading.Thread(target=self._run, args=(job,), daemon=True).start()
        return job

    def _run(self, job: Job) -> None:
        ctx = self.ctx
        with self._one_at_a_time:
            try:
                config = ctx.assignment.course.config
                runner = build_runner(config.runner, "auto", config.docker)
                for student in job.students:
                    job.current = student
                    try:
                        self._one(runner, student)
                    except Exception as exc:  # noqa: BLE001 - shown on the page, next one goes on
                        job.errors.append(f"{student}: {exc}")
                    job.done.append(student)
                with ctx.write_lock, ctx.book() as book:  # one matplotlib user at a time
                    write_summary(book, ctx.name, ctx.out_dir, templates_dir=ctx.templates_dir)
            except Exception as exc:  # noqa: BLE001 - the runner could not start
                job.errors.append(str(exc))
            finally:
                job.current = ""
                job.finished = True

    def _one(self, runner: Runner, student: str) -> None:
        ctx = self.ctx
        with ctx.book() as book:
            attempt, _ = ctx.counting(book)[student]
        run = grade(ctx.assignment, Path(attempt.path), runner=runner)
        folder = Path(attempt.results_path).parent
        paths = write_outputs(run, folder, ctx.templates_dir)
        with ctx.book() as book:
            book.record(student, run.result, paths["results"], run.result.model_dump_json())
