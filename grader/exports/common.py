"""What every export shares: the graded students, what a student may read, safe cells.

An export is read by a platform and, through it, by students. So every per-criterion
text comes from the student report's own view (:func:`grader.report.view.build_view`):
hidden criteria carry their feedback but no details or measured values, and no test
names or test source ever leave the grader. Platforms without a native "show after the
due date" get the after-the-due-date criteria folded into one line (their points still
count: a grade export must carry the real grade) unless ``--released`` says the due
date has passed.

Pending points (a criterion waiting for a GPU, or for a person's mark) are never a
silent zero: ``--pending omit`` (the default) leaves a grade table's cell empty for a
student with any, ``--pending partial`` posts the points so far; either way the notes
name the students, and per-criterion formats show each pending criterion as pending.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from grader.errors import GraderError
from grader.report.text import clean_text, number
from grader.report.view import CriterionRow, build_view
from grader.results import CriterionStatus, GradingResult, Visibility


class ExportError(GraderError):
    """The gradebook, roster or options do not allow this export; nothing was written."""

    exit_code = 2


@dataclass(frozen=True)
class StudentGrade:
    """One student's counting attempt, with their roster row when a roster was given."""

    student: str
    result: GradingResult
    roster_row: Mapping[str, str] | None = None


PendingChoice = Literal["omit", "partial"]
PENDING_CHOICES: tuple[str, ...] = get_args(PendingChoice)


@dataclass(frozen=True)
class ExportOptions:
    released: bool = False  # the due date has passed: show after-the-due-date results
    canvas_id: str | None = None  # Canvas assignment id, for the "Title (id)" column
    title: str | None = None  # the assignment's name on the platform, if not our title
    roster_given: bool = False
    roster_path: Path | None = None
    pending: PendingChoice = "omit"  # a student with pending points: no grade, or so far


@dataclass
class Rendered:
    """An export's text and the notes the instructor should read before uploading it."""

    text: str
    notes: list[str] = field(default_factory=list)


Layout = Literal["per_student", "class", "autograder"]


@dataclass(frozen=True)
class ExportFormat:
    """One entry of the registry: how a format is named, explained and written."""

    name: str
    summary: str  # one line for ``grader export --help``
    layout: Layout  # one document per student, one file for the class, or a folder of scripts
    suffix: str
    render_one: Callable[[StudentGrade, ExportOptions], str] | None = None
    render_class: Callable[[list[StudentGrade], ExportOptions], Rendered] | None = None
    needs_roster: bool = False
    #: One grade cell per student, which ``--pending omit`` leaves empty; the other formats
    #: show each criterion, pending ones marked as such, and always carry the points so far.
    grade_table: bool = False


@dataclass(frozen=True)
class StudentCriterion:
    """A criterion as an export shows it: counting points and student-safe text."""

    id: str
    name: str
    status: CriterionStatus | Literal["released_later"]
    points: float  # what counts toward the score (0 while a GPU criterion waits)
    max_points: float  # 0 for a criterion excluded from the total
    visibility: Visibility
    text: str  # feedback, then details and measured values where the student may see them
    pending: bool = False
    excluded: bool = False
    manual: bool = False  # a person marks it (viva, write-up)
    marked: bool = False  # a person's mark, or an override of the tests' verdict

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def shown_name(self) -> str:
        """The name with "(pending)" while it waits: platforms that know only pass and
        fail show a 0-point pending test as failed, and the name says why."""
        return f"{self.name} (pending)" if self.pending else self.name


RELEASED_LATER_ID = "released_after_due_date"


def student_criteria(result: GradingResult, released: bool = True) -> list[StudentCriterion]:
    """Each criterion with the text the student report would show for it.

    After-the-due-date criteria take the text they will have once released (the
    instructor view's row, whose test names are never used). With ``released`` false
    they are folded into one entry by :func:`fold_released_later`.
    """
    student_rows = build_view(result, "student").criteria
    full_rows = build_view(result, "instructor").criteria
    criteria = []
    for c, student_row, full_row in zip(result.criteria, student_rows, full_rows, strict=True):
        row = full_row if c.visibility == "after_due_date" else student_row
        waiting = c.status in ("needs_gpu", "pending")
        criteria.append(
            StudentCriterion(
                id=c.id,
                name=clean_text(c.name, 200),
                status=c.status,
                points=0.0 if waiting else c.points,
                max_points=c.max_points if c.counts_toward_total else 0.0,
                visibility=c.visibility,
                text=_text(row),
                pending=waiting and c.pending,
                excluded=waiting and not c.counts_toward_total,
                manual=c.manual,
                marked=c.mark is not None,
            )
        )
    return criteria if released else fold_released_later(criteria)


def _text(row: CriterionRow) -> str:
    """Feedback, details, measured values: what the row holds (a hidden row holds none
    of the last two, having been built for the student)."""
    lines = [row.feedback, row.detail, *(f"{name}: {value}" for name, value in row.measured)]
    if row.marker:
        lines.append(f"({row.marker[:1].upper()}{row.marker[1:]}.)")
    if row.comment:
        lines.append(f"Instructor's comment: {row.comment}")
    return "\n".join(line for line in lines if line)


def fold_released_later(criteria: list[StudentCriterion]) -> list[StudentCriterion]:
    """The after-the-due-date criteria as one entry, named but without their results.

    Their points stay in the total (the grade must be right), so the folded entry
    shows only their sum, which the total reveals anyway; which of them passed, and
    why, stays unknown until the due date.
    """
    later = [c for c in criteria if c.visibility == "after_due_date"]
    if not later:
        return criteria
    points = sum(c.points for c in later)
    max_points = sum(c.max_points for c in later)
    names = ", ".join(c.name for c in later)
    folded = StudentCriterion(
        id=RELEASED_LATER_ID,
        name=f"Released after the due date ({len(later)} {_criteria_word(len(later))})",
        status="released_later",
        points=points,
        max_points=max_points,
        visibility="after_due_date",
        text=f"Results of {names} are released after the due date.",
    )
    return [c for c in criteria if c.visibility != "after_due_date"] + [folded]


def _criteria_word(count: int) -> str:
    return "criterion" if count == 1 else "criteria"


def summary_text(result: GradingResult, with_score: bool = True) -> str:
    """The submission-level message: score, what is pending or excluded, what went wrong.

    ``with_score=False`` for platforms that show the score themselves and may be
    holding it back (Gradescope hides the total until after-the-due-date tests show).
    """
    score = result.score
    lines = [f"Score: {number(score.points)} / {number(score.max_points)}"] if with_score else []
    gpu_pending = score.pending_points - score.pending_manual_points
    if gpu_pending > 1e-9:
        lines.append(
            f"{number(gpu_pending)} point(s) need a GPU and are pending until "
            "the notebook is graded on one."
        )
    if score.pending_manual_points:
        names = ", ".join(clean_text(c.name, 100) for c in result.pending_manual)
        lines.append(
            f"{number(score.pending_manual_points)} point(s) await the instructor's mark "
            f"({names}): not yet in the score."
        )
    if score.excluded_points:
        lines.append(
            f"{number(score.excluded_points)} point(s) need a GPU and were left out of the total."
        )
    if result.mode == "check":
        lines.append("Public tests only: hidden tests will also be run when your work is graded.")
    if result.grading_error:
        lines.append(f"Your notebook could not be graded: {clean_text(result.grading_error)}")
    execution = result.execution
    if execution and execution.stopped_at_cell is not None:
        reason = clean_text(execution.stop_reason or "it stopped", 500)
        lines.append(f"The notebook stopped at cell {execution.stopped_at_cell}: {reason}")
    for error in (execution.errors if execution else [])[:5]:
        message = clean_text(f"{error.ename}: {error.evalue}", 500)
        lines.append(f"Cell {error.cell} raised {message}")
    return "\n".join(lines)


def has_pending(result: GradingResult) -> bool:
    """Points still to come: a criterion waiting for a GPU or for a person's mark."""
    return result.score.pending_points > 0


def withheld(result: GradingResult, options: ExportOptions) -> bool:
    """No grade in a grade table: grading failed, or points pending and ``--pending omit``."""
    return bool(result.grading_error) or (has_pending(result) and options.pending == "omit")


def fraction(result: GradingResult) -> float:
    """The score as a fraction in [0, 1]: what platforms that grade out of 1 want."""
    if result.score.max_points <= 0:
        return 0.0
    return min(1.0, max(0.0, result.score.points / result.score.max_points))


def points(value: float) -> float:
    """Points for a JSON document: floats, rounded away from binary noise."""
    return round(float(value), 4)


# -- CSV -----------------------------------------------------------------------

# A cell that starts like a formula is run by spreadsheets when the instructor opens the
# file; student ids (file names) and feedback (student error messages) are untrusted.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A text cell that a spreadsheet shows as text, never evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_text(rows: list[list[str]]) -> str:
    """Rows as RFC 4180 CSV (quoted where needed, CRLF line ends), as LMS importers expect."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def one_line(text: str) -> str:
    """Text flattened to one line, for CSV cells that importers read line by line."""
    return " ".join(text.split())


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")


def safe_file_name(student: str) -> str:
    """A student id that can name a folder; ids come from file names students chose."""
    if not _SAFE_NAME.match(student) or ".." in student:
        raise ExportError(
            f"student id {student!r} cannot name a folder; export with -o FILE.json for one "
            "student, or rename the submission and grade it again"
        )
    return student
