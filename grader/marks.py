"""Marks a person gives: a viva, a write-up, and overrides of the machine's verdict.

The machine's result of an attempt is never edited. Marks are kept beside it (in the
gradebook, :mod:`grader.batch.gradebook`) and added on read by :func:`apply_marks`, so
regrading a notebook cannot lose them, and an override always has the verdict it
replaced next to it. Each mark remembers the SHA-256 of the notebook it was given for:
when the counting attempt is another notebook (the student submitted again), the mark
still counts but is shown *for review* until someone confirms it or marks again.

Marks come one at a time (``grader mark A STUDENT CRITERION POINTS``) or from a CSV
file (``grader mark --from``), which is checked whole before any row is applied: one
bad row and nothing from the file changes.
"""

from __future__ import annotations

import csv
import getpass
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from grader.errors import GraderError
from grader.results import CriterionResult, GradingResult, MachineVerdict, ManualMark
from grader.rubric import Criterion, Rubric
from grader.scoring import total_score

#: The template's columns; ``grader mark --from`` needs only student, criterion, points.
TEMPLATE_COLUMNS = (
    "assignment",
    "student",
    "criterion",
    "criterion_name",
    "max_points",
    "points",
    "comment",
    "levels",
    "current",
)
REQUIRED_COLUMNS = ("student", "criterion", "points")
TOLERANCE = 1e-9


class MarkError(GraderError):
    """A mark cannot be given as asked; nothing was changed."""

    exit_code = 2


class MarksFileError(MarkError):
    """Rows of a marks file are wrong; ``problems`` has one line per bad row."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        count = f"{len(problems)} bad row{'s' if len(problems) != 1 else ''}"
        super().__init__(
            f"{path}: {count}, nothing from the file was applied; fix them and run it again"
        )


@dataclass(frozen=True)
class Mark:
    """One mark as stored: keyed by (assignment, student, criterion)."""

    assignment: str
    student: str
    criterion: str
    points: float
    comment: str
    by: str
    at: str
    sha256: str  # the notebook the mark was given for


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def default_marker() -> str:
    """Who is marking: the OS user (``--by`` overrides it)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "unknown"


# -- marks onto a result ------------------------------------------------------------


def apply_marks(result: GradingResult, marks: Iterable[Mark]) -> GradingResult:
    """``result`` (the machine's) with the marks given for its criteria, score re-added.

    A mark for a criterion the result does not have (graded with an older rubric) is
    left out; ``grader mark`` refuses to give one.
    """
    by_id = {m.criterion: m for m in marks}
    if not any(c.id in by_id for c in result.criteria):
        return result
    criteria = [
        _marked(c, by_id[c.id], result.submission.sha256) if c.id in by_id else c
        for c in result.criteria
    ]
    return result.model_copy(update={"criteria": criteria, "score": total_score(criteria)})


def _marked(c: CriterionResult, mark: Mark, sha256: str) -> CriterionResult:
    # A maximum lowered since the mark was given caps it, and asks for a look.
    points = min(mark.points, c.max_points)
    review = mark.sha256 != sha256 or mark.points > c.max_points + TOLERANCE
    given = ManualMark(
        points=points,
        comment=mark.comment,
        by=mark.by,
        at=mark.at,
        sha256=mark.sha256,
        review=review,
    )
    update: dict[str, object] = {
        "status": status_for(points, c.max_points),
        "points": points,
        "pending": False,
        "counts_toward_total": True,
        "mark": given,
    }
    if c.manual:
        update["feedback"] = _level_text(c, points)  # the tag says a person marked it
    else:
        update["machine"] = MachineVerdict(
            status=c.status,
            points=0.0 if c.status == "needs_gpu" else c.points,
            feedback=c.feedback,
            detail=c.detail,
        )
    return c.model_copy(update=update)


def status_for(points: float, max_points: float) -> str:
    if points >= max_points - TOLERANCE:
        return "passed"
    return "failed" if points <= TOLERANCE else "partial"


def _level_text(c: CriterionResult, points: float) -> str:
    reached = [lv for lv in c.levels if lv.points <= points + TOLERANCE]
    return max(reached, key=lambda lv: lv.points).text if reached else ""


# -- checking one mark ----------------------------------------------------------------


def parse_points(text: str) -> float:
    """Points as typed: a finite number, else ValueError saying what was wrong."""
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"points {text.strip()!r} are not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"points {text.strip()!r} are not a number")
    return value


def points_problem(criterion: Criterion, points: float) -> str | None:
    """Why ``points`` cannot be given for ``criterion``; None when they can."""
    if points < 0:
        return f"points {points:g} are negative"
    if points > criterion.points + TOLERANCE:
        return f"points {points:g} are above the maximum of {criterion.id!r}, {criterion.points:g}"
    return None


def check_mark(
    rubric: Rubric, result: GradingResult, student: str, criterion_id: str, text: str
) -> float:
    """The points of one mark as typed, checked against the rubric and the student's
    counting ``result``; MarkError says what is wrong. ``grader mark`` and ``grader
    serve`` both call this, so a mark is checked the same way from either."""
    value = 0.0
    problem = criterion_problem(rubric, criterion_id)
    if problem is None and all(c.id != criterion_id for c in result.criteria):
        problem = f"{student} was graded before the rubric had {criterion_id!r}: regrade first"
    if problem is None:
        try:
            value = parse_points(text)
        except ValueError as exc:
            problem = str(exc)
        else:
            criterion = rubric.criterion(criterion_id)
            assert criterion is not None
            problem = points_problem(criterion, value)
    if problem:
        raise MarkError(f"{student} / {criterion_id}: {problem}")
    return value


def criterion_problem(rubric: Rubric, criterion_id: str) -> str | None:
    if rubric.criterion(criterion_id) is not None:
        return None
    manual = ", ".join(c.id for c in rubric.manual_criteria) or "none"
    return (
        f"unknown criterion {criterion_id!r} (the rubric of {rubric.assignment} has manual "
        f"criteria: {manual}; any other criterion id overrides the machine)"
    )


# -- the CSV template and the file of marks ----------------------------------------------


def template_csv(
    rubric: Rubric, students: Iterable[str], current: Mapping[tuple[str, str], str]
) -> str:
    """One row per (student, manual criterion), points empty; ``current`` says what is
    already entered (ignored on import)."""
    rows: list[list[str]] = [list(TEMPLATE_COLUMNS)]
    for student in students:
        for c in rubric.manual_criteria:
            rows.append(
                [
                    rubric.assignment,
                    _cell(student),
                    c.id,
                    _cell(c.name),
                    f"{c.points:g}",
                    "",
                    "",
                    _cell(levels_hint(c)),
                    _cell(current.get((student, c.id), "")),
                ]
            )
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def levels_hint(c: Criterion) -> str:
    levels = sorted(c.levels or [], key=lambda lv: lv.points)
    return "; ".join(f"{lv.points:g}: {lv.text}" for lv in levels)


@dataclass(frozen=True)
class MarkRow:
    """A row of a marks file that passed every check."""

    row: int
    student: str
    criterion: str
    points: float
    comment: str


@dataclass(frozen=True)
class MarksFile:
    path: Path
    rows: list[tuple[int, dict[str, str]]]  # (row number counting the header as 1, cells)

    def assignments(self) -> set[str]:
        return {cells.get("assignment", "") for _, cells in self.rows} - {""}


def read_marks_file(path: Path) -> MarksFile:
    """The rows of a marks CSV; an unreadable file or missing columns are one error."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            records = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MarkError(f"{path}: cannot read it as CSV ({exc})") from None
    if not records:
        raise MarkError(f"{path}: the file is empty; write one with grader mark --template")
    header = [name.strip().lower() for name in records[0]]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise MarkError(
            f"{path}: no {', '.join(missing)} column; the header needs "
            f"{', '.join(REQUIRED_COLUMNS)} (grader mark --template writes one)"
        )
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(value.strip() for value in record):
            continue
        cells = {name: _uncell(v.strip()) for name, v in zip(header, record, strict=False)}
        rows.append((number, cells))
    return MarksFile(path, rows)


def check_marks_file(
    marks_file: MarksFile,
    rubric: Rubric,
    graded: Mapping[str, GradingResult],
) -> list[MarkRow]:
    """Every row with points, checked; MarksFileError lists each bad row.

    ``graded`` maps each student in the gradebook to their counting result. A row with
    neither points nor a comment is a row left blank and is skipped.
    """
    problems: list[str] = []
    good: list[MarkRow] = []
    seen: dict[tuple[str, str], int] = {}
    for number, cells in marks_file.rows:
        student, criterion_id = cells.get("student", ""), cells.get("criterion", "")
        text, comment = cells.get("points", ""), cells.get("comment", "")
        if not text and not comment:
            continue
        problem = _row_problem(cells, rubric, graded)
        points = 0.0
        if problem is None and not text:
            problem = "a comment without points: give the points too"
        if problem is None:
            try:
                points = parse_points(text)
            except ValueError as exc:
                problem = str(exc)
        criterion = rubric.criterion(criterion_id)
        if problem is None and criterion is not None:
            problem = points_problem(criterion, points)
        key = (student, criterion_id)
        if problem is None and key in seen:
            problem = f"{student} / {criterion_id} is also on row {seen[key]}"
        seen.setdefault(key, number)
        if problem:
            problems.append(f"{marks_file.path}, row {number}: {problem}")
        else:
            good.append(MarkRow(number, student, criterion_id, points, comment))
    if problems:
        raise MarksFileError(marks_file.path, problems)
    return good


def _row_problem(
    cells: Mapping[str, str], rubric: Rubric, graded: Mapping[str, GradingResult]
) -> str | None:
    student, criterion_id = cells.get("student", ""), cells.get("criterion", "")
    assignment = cells.get("assignment", "")
    if assignment and assignment != rubric.assignment:
        return f"assignment {assignment!r}, but the marks are for {rubric.assignment!r}"
    if not student:
        return "no student"
    if student not in graded:
        return (
            f"unknown student {student!r}: not in the gradebook of {rubric.assignment} "
            "(grade their notebook first)"
        )
    if not criterion_id:
        return "no criterion"
    problem = criterion_problem(rubric, criterion_id)
    if problem is None and all(c.id != criterion_id for c in graded[student].criteria):
        problem = (
            f"{student} was graded before the rubric had {criterion_id!r}: regrade "
            "(grader batch --regrade) first"
        )
    return problem


# Spreadsheets run a cell that starts like a formula; student ids come from file names.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _uncell(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text
