"""What each page shows, gathered from the gradebook before any template runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.batch.gradebook import Attempt, Gradebook
from grader.results import CriterionResult, GradingResult
from grader.serve.classlist import FILTERS, SORTS, ClassRow, class_rows, next_to_mark, select
from grader.serve.context import ServeContext
from grader.serve.marking import notebook_changed, stamp
from grader.serve.notebook_view import NotebookView, read_notebook


@dataclass(frozen=True)
class ClassView:
    rows: list[ClassRow]
    total: int
    criteria: list[str]  # column ids, in rubric order
    show: str
    sort: str
    descending: bool
    filters: dict[str, str]
    sorts: dict[str, str]
    counts: dict[str, int]  # filter -> how many students it keeps


@dataclass(frozen=True)
class MarkForm:
    criterion: CriterionResult
    seen: str
    override: bool  # an automatic criterion: a mark replaces the tests' verdict


@dataclass(frozen=True)
class StudentView:
    student: str
    attempt: Attempt
    result: GradingResult
    forms: list[MarkForm]
    notebook: NotebookView
    notebook_changed: bool
    attempts: list[Attempt]
    log: list[dict[str, object]]
    next_after: str


def class_view(
    ctx: ServeContext, book: Gradebook, show: str, sort: str, descending: bool
) -> ClassView:
    show = show if show in FILTERS else "all"
    sort = sort if sort in SORTS else "student"
    rows = class_rows(ctx.cache.final_results(book, ctx.name))
    criteria = [c.id for c in ctx.assignment.rubric.criteria]
    return ClassView(
        rows=select(rows, show, sort, descending),
        total=len(rows),
        criteria=criteria,
        show=show,
        sort=sort,
        descending=descending,
        filters=FILTERS,
        sorts=SORTS,
        counts={name: len(select(rows, name, "student", False)) for name in FILTERS},
    )


def student_view(ctx: ServeContext, book: Gradebook, student: str) -> StudentView | None:
    found = ctx.counting(book).get(student)
    if found is None:
        return None
    attempt, result = found
    manual = [c for c in result.criteria if c.manual]
    automatic = [c for c in result.criteria if not c.manual]
    forms = [MarkForm(c, stamp(c), False) for c in manual]
    forms += [MarkForm(c, stamp(c), True) for c in automatic]
    path = Path(attempt.path)
    return StudentView(
        student=student,
        attempt=attempt,
        result=result,
        forms=forms,
        notebook=read_notebook(path),
        notebook_changed=notebook_changed(path, attempt.sha256),
        attempts=book.attempts(ctx.name, student),
        log=book.marks_log(ctx.name, student),
        next_after=student,
    )


def next_student(ctx: ServeContext, book: Gradebook, after: str | None) -> str | None:
    return next_to_mark(class_rows(ctx.cache.final_results(book, ctx.name)), after)
