"""One batch: discover, skip what the gradebook has, grade the rest, record as they finish."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.bundle import make_bundle
from grader.batch.dispatch import Dispatcher
from grader.batch.gradebook import Gradebook
from grader.batch.submissions import Roster, StudentSubmission, discover
from grader.batch.tasks import Task
from grader.course import Assignment
from grader.execute import CapturedFigure
from grader.pipeline import GradingRun, grade, write_outputs, zygote_recipe
from grader.results import GradingResult
from grader.runners.choice import build_runner
from grader.runners.zygote import Recipe


@dataclass
class BatchPlan:
    """What a batch will do, before it does it."""

    submissions: list[StudentSubmission]
    to_grade: list[StudentSubmission]
    skipped: list[StudentSubmission]


@dataclass
class BatchOutcome:
    graded: list[tuple[str, GradingResult]] = field(default_factory=list)
    skipped: int = 0
    #: Students the grader itself failed to grade (after retries): no attempt, no score.
    not_graded: list[tuple[str, str]] = field(default_factory=list)

    @property
    def failed(self) -> list[tuple[str, GradingResult]]:
        return [(s, r) for s, r in self.graded if r.grading_error]


def plan(
    assignment: Assignment,
    source: Path,
    gradebook: Gradebook,
    workdir: Path,
    pattern: str,
    roster: Roster | None,
    regrade: bool,
) -> BatchPlan:
    found = discover(source, workdir, pattern, roster)
    done = set() if regrade else gradebook.graded(assignment.name)
    todo = [s for s in found if (s.student, s.sha256) not in done]
    skipped = [s for s in found if (s.student, s.sha256) in done]
    return BatchPlan(found, todo, skipped)


def shared_zygote(assignment: Assignment, sandbox: str, runner: str) -> Recipe | None:
    """The zygote a local batch's workers would each start for ``assignment``'s kernels,
    for the batch to start once, as it begins (None where kernels are not forked)."""
    if runner != "local":
        return None
    local = build_runner("local", sandbox, warm_imports=assignment.config.imports_to_warm())
    return zygote_recipe(assignment, local)


def student_folder(out: Path, student: str) -> Path:
    """A folder name safe on every filesystem, unique per student id."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", student)[:80] or "_"
    return out / safe


def run_batch(
    assignment: Assignment,
    batch: BatchPlan,
    gradebook: Gradebook,
    out: Path,
    dispatcher: Dispatcher,
    sandbox: str = "auto",
    on_result: Callable[[str, GradingResult | None], None] | None = None,
    runner: str = "local",
    batch_id: str = "",
) -> BatchOutcome:
    """Grade ``batch.to_grade``; every result is in the gradebook at once.

    Workers get the notebook's bytes and the assignment's bundle, and send back the
    results and figures: this process writes every output and the gradebook, so workers
    need no filesystem shared with it. A file that is not gradable gets its zero row here,
    without a worker. A task the grader failed (after its retries) gets no attempt.
    """
    outcome = BatchOutcome(skipped=len(batch.skipped))
    templates = assignment.course.templates_dir

    def keep(student: str, run: GradingRun) -> None:
        paths = write_outputs(run, student_folder(out, student), templates)
        gradebook.record(student, run.result, paths["results"], run.result.model_dump_json())
        outcome.graded.append((student, run.result))
        if on_result is not None:
            on_result(student, run.result)

    for row in batch.to_grade:
        if row.problem is not None:
            keep(row.student, grade(assignment, row.path, problem=row.problem))
    sources = {s.student: s for s in batch.to_grade if s.problem is None}
    if not sources:
        return outcome
    bundle = make_bundle(assignment)
    tasks = [
        Task(
            student=s.student,
            notebook_name=s.path.name,
            notebook=s.path.read_bytes(),
            assignment=assignment.name,
            bundle=bundle.sha256,
            sandbox=sandbox,
            runner=runner,
            batch=batch_id,
            notes=s.notes,
        )
        for s in sources.values()
    ]
    needs_gpu = any(c.requires_gpu for c in assignment.rubric.criteria)
    for task, payload, error in dispatcher.run(tasks, needs_gpu, bundle):
        if payload is None:
            outcome.not_graded.append((task.student, error))
            if on_result is not None:
                on_result(task.student, None)
            continue
        result = GradingResult.model_validate_json(payload["results"])
        # The worker graded a copy: the record names the file the instructor handed in.
        result.submission.path = str(sources[task.student].path)
        figures = [CapturedFigure(**f) for f in payload["figures"]]
        keep(task.student, GradingRun(result, figures))
    return outcome


@contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="dlgrader-batch-") as folder:
        yield Path(folder)
