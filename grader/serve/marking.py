"""Marks from the browser, through the very checks and log of ``grader mark``.

:func:`grader.marks.check_mark` decides whether the points may be given,
:meth:`Gradebook.set_marks` writes and logs them in one transaction, and
:func:`grader.batch.summary.after_marks` rewrites the reports, as the command does.
The browser adds two questions the command line does not need: did someone else mark
this criterion since the form was loaded (two TAs at once: the second sees the first's
mark and decides), and did the notebook file change since it was graded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from grader.batch.summary import after_marks
from grader.marks import Mark, MarkError, check_mark, now
from grader.results import CriterionResult
from grader.serve.context import ServeContext

SOURCE = "grader serve"


@dataclass(frozen=True)
class Outcome:
    status: str  # "saved", "changed" (someone marked meanwhile), "confirm" (notebook changed)
    message: str
    seen: str = ""  # the stamp to send back when the reviewer submits again


def stamp(c: CriterionResult | None) -> str:
    """What a form saw of a criterion's mark: changes whenever anyone marks it."""
    if c is None or c.mark is None:
        return ""
    return f"{c.mark.by}|{c.mark.at}|{c.mark.points:g}|{c.mark.comment}"


def give_mark(
    ctx: ServeContext,
    student: str,
    criterion_id: str,
    points: str,
    comment: str,
    by: str,
    seen: str,
    confirmed: bool,
) -> Outcome:
    by = by.strip() or "unknown"
    with ctx.write_lock, ctx.book() as book:
        counting = ctx.counting(book)
        if student not in counting:
            raise MarkError(f"unknown student {student!r}: not in the gradebook of {ctx.name}")
        attempt, result = counting[student]
        value = check_mark(ctx.assignment.rubric, result, student, criterion_id, points)
        current = next((c for c in result.criteria if c.id == criterion_id), None)
        now_seen = stamp(current)
        if now_seen != seen and current is not None and current.mark is not None:
            m = current.mark
            return Outcome(
                "changed",
                f"{m.by} marked {criterion_id} {m.points:g} at {m.at} since this page was "
                f"loaded ({m.comment or 'no comment'}); submit again to replace it",
                now_seen,
            )
        if not confirmed and notebook_changed(Path(attempt.path), attempt.sha256):
            return Outcome(
                "confirm",
                f"{Path(attempt.path).name} changed since it was graded: the mark will be "
                "for the graded notebook; submit again to confirm, or regrade first",
                now_seen,
            )
        mark = Mark(ctx.name, student, criterion_id, value, comment, by, now(), attempt.sha256)
        book.set_marks([mark], source=SOURCE)
        after_marks(book, ctx.name, {student}, ctx.templates_dir)
    return Outcome("saved", f"{student} / {criterion_id}: {value:g} by {by}")


def confirm_review(ctx: ServeContext, student: str, by: str) -> Outcome:
    """Keep the marks flagged for review for the current notebook (``--confirm``)."""
    with ctx.write_lock, ctx.book() as book:
        attempt, result = _known(ctx, book, student)
        flagged = [c.id for c in result.marks_for_review]
        kept = book.confirm_marks(ctx.name, student, flagged, attempt.sha256, by, now())
        if kept:
            after_marks(book, ctx.name, {student}, ctx.templates_dir)
    names = ", ".join(m.criterion for m in kept) or "nothing was flagged for review"
    return Outcome("saved", f"{student}: confirmed {names}")


def clear_mark(ctx: ServeContext, student: str, criterion_id: str, by: str) -> Outcome:
    """Remove a mark (``--clear``): pending again, or back to the tests' verdict."""
    with ctx.write_lock, ctx.book() as book:
        _known(ctx, book, student)
        if not book.clear_mark(ctx.name, student, criterion_id, by, now()):
            raise MarkError(f"{student} has no mark for {criterion_id!r} to clear")
        after_marks(book, ctx.name, {student}, ctx.templates_dir)
    return Outcome("saved", f"{student} / {criterion_id}: mark removed")


def notebook_changed(path: Path, sha256: str) -> bool:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() != sha256
    except OSError:
        return False  # gone: nothing newer to compare with


def _known(ctx: ServeContext, book, student: str):  # noqa: ANN001, ANN202
    counting = ctx.counting(book)
    if student not in counting:
        raise MarkError(f"unknown student {student!r}: not in the gradebook of {ctx.name}")
    return counting[student]
