"""One batch: discover, skip what the gradebook has, grade the rest, record as they finish."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.dispatch import Dispatcher, Task
from grader.batch.gradebook import Gradebook
from grader.batch.submissions import Roster, StudentSubmission, discover
from grader.config import Limits
from grader.course import Assignment
from grader.pipeline import grade
from grader.results import GradingResult
from grader.runners.base import Enforcement, KernelSession


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
    on_result: Callable[[str, GradingResult], None] | None = None,
    runner: str = "local",
    batch_id: str = "",
) -> BatchOutcome:
    """Grade ``batch.to_grade`` on the dispatcher; every result is in the gradebook at once."""
    outcome = BatchOutcome(skipped=len(batch.skipped))
    tasks = [
        Task(
            student=s.student,
            notebook=str(s.path),
            course=str(assignment.course.root),
            assignment=assignment.name,
            out_dir=str(student_folder(out, s.student)),
            sandbox=sandbox,
            runner=runner,
            batch=batch_id,
            problem=s.problem,
            notes=s.notes,
        )
        for s in batch.to_grade
    ]
    needs_gpu = any(c.requires_gpu for c in assignment.rubric.criteria)
    for task, text, error in dispatcher.run(tasks, needs_gpu):
        if text is not None:
            result = GradingResult.model_validate_json(text)
        else:
            result = grader_failure(assignment, Path(task.notebook), error)
            text = result.model_dump_json()
        results_path = Path(task.out_dir) / "results.json"
        gradebook.record(task.student, result, results_path, text)
        outcome.graded.append((task.student, result))
        if on_result is not None:
            on_result(task.student, result)
    return outcome


class _Unavailable:
    """A runner that cannot start: turns a grader-side failure into the usual zero row."""

    name = "none"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def enforcement(self, limits: Limits) -> Enforcement:
        return Enforcement("none", "none", False, False, None, None)

    @contextmanager
    def session(self, limits, env=None, data=None, submission=None) -> Iterator[KernelSession]:  # noqa: ANN001
        raise RuntimeError(f"the grading worker failed: {self.reason}")
        yield  # pragma: no cover - makes this a generator


def grader_failure(assignment: Assignment, notebook: Path, reason: str) -> GradingResult:
    """The row for a submission whose grading worker crashed: zero, with the reason."""
    return grade(assignment, notebook, runner=_Unavailable(reason)).result


@contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="dlgrader-batch-") as folder:
        yield Path(folder)
