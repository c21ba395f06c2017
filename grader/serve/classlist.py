"""The class table: each student's counting attempt with its marks, filtered and sorted.

Parsing a result document is the slow part of listing a class, and an attempt's
document never changes (a regrade is a new row), so parsed results are kept per
attempt id; marks are read fresh on every request and added with
:func:`grader.marks.apply_marks`, exactly as :meth:`Gradebook.final_results` does.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from grader.batch.gradebook import Attempt, Gradebook
from grader.marks import Mark, apply_marks
from grader.results import GradingResult

FILTERS = {
    "all": "everyone",
    "flagged": "flagged",
    "failed": "grading failed",
    "pending": "marks pending",
    "review": "marks to review",
    "not_gradable": "not gradable",
}
SORTS = {"student": "student", "score": "score", "time": "grading time", "pending": "pending"}


@dataclass(frozen=True)
class CriterionCell:
    id: str
    status: str
    points: str
    marked: bool


@dataclass(frozen=True)
class ClassRow:
    student: str
    points: float
    max_points: float
    percent: float
    seconds: float
    criteria: list[CriterionCell]
    flags: list[str]
    pending: list[str]  # ids of manual criteria nobody has marked yet
    review: list[str]
    failed: bool
    not_gradable: bool
    note: str


class ResultCache:
    """Parsed results by attempt id (rows are never edited in place)."""

    def __init__(self) -> None:
        self._results: dict[int, GradingResult] = {}
        self._lock = threading.Lock()

    def result(self, book: Gradebook, attempt: Attempt) -> GradingResult:
        with self._lock:
            found = self._results.get(attempt.id)
        if found is None:
            found = book.result(attempt.id)
            with self._lock:
                self._results[attempt.id] = found
        return found

    def final_results(
        self, book: Gradebook, assignment: str
    ) -> list[tuple[Attempt, GradingResult]]:
        """As :meth:`Gradebook.final_results` (latest attempts), from the cache."""
        marks: dict[str, list[Mark]] = {}
        for m in book.marks(assignment):
            marks.setdefault(m.student, []).append(m)
        return [
            (a, apply_marks(self.result(book, a), marks.get(a.student, [])))
            for a in book.final(assignment)
        ]


def class_rows(results: list[tuple[Attempt, GradingResult]]) -> list[ClassRow]:
    return [_row(a, r) for a, r in results]


def select(rows: list[ClassRow], show: str, sort: str, descending: bool) -> list[ClassRow]:
    """The rows a filter keeps, in the order asked for (unknown names: all, by student)."""
    keep = {
        "flagged": lambda r: bool(r.flags),
        "failed": lambda r: r.failed,
        "pending": lambda r: bool(r.pending),
        "review": lambda r: bool(r.review),
        "not_gradable": lambda r: r.not_gradable,
    }.get(show, lambda r: True)
    key = {
        "score": lambda r: (r.percent, r.student),
        "time": lambda r: (r.seconds, r.student),
        "pending": lambda r: (len(r.pending), r.student),
    }.get(sort, lambda r: r.student)
    return sorted((r for r in rows if keep(r)), key=key, reverse=descending)


def next_to_mark(rows: list[ClassRow], after: str | None) -> str | None:
    """The next student (by name, wrapping round) with a manual mark still to give."""
    queue = sorted(r.student for r in rows if r.pending)
    later = [s for s in queue if after is None or s > after]
    return (later or queue or [None])[0]


def _row(attempt: Attempt, result: GradingResult) -> ClassRow:
    score = result.score
    stopped = result.execution is not None and result.execution.stopped_at_cell is not None
    note = result.grading_error or ""
    if not note and result.execution and result.execution.stop_reason:
        note = result.execution.stop_reason
    return ClassRow(
        student=attempt.student,
        points=score.points,
        max_points=score.max_points,
        percent=100 * score.points / score.max_points if score.max_points else 0.0,
        seconds=attempt.seconds,
        criteria=[
            CriterionCell(c.id, c.status, f"{c.points:g}/{c.max_points:g}", c.mark is not None)
            for c in result.criteria
        ],
        flags=list(result.flags),
        pending=[c.id for c in result.pending_manual],
        review=[c.id for c in result.marks_for_review],
        failed=bool(result.grading_error) or stopped,
        not_gradable=bool(result.not_gradable),
        note=note[:200],
    )
