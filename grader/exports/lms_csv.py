r"""Grade tables: the Canvas gradebook CSV, Moodle's grade import CSV, and a plain CSV.

Canvas (``lib/gradebook_importer.rb``): the header starts ``Student, ID`` and its
student-info block ends with ``Section``; an assignment column titled ``Title (123)``
is matched by id, a bare title by name, and an unknown one creates a new assignment;
a first cell containing ``Points Possible`` marks the points row; students are
matched by ``ID``, then ``SIS User ID``, then ``SIS Login ID``; a blank cell is "no
score". So Canvas needs a roster with at least one of those id columns.

Moodle (``grade/import/csv``): a header row; on import the instructor maps one column
to a user field (email, idnumber, username) and the others to a grade item and its
feedback. A blank identifier or an unknown user aborts the whole import, and ``-``
is "no grade". So every row carries an identifier, and a student whose grading
failed gets ``-`` (no grade) rather than a zero nobody decided on.

Moodle reads the file with PHP's ``fgetcsv($fp, 0, $csv_delimiter, $enclosure)``
(``csv_import_reader::load_csv_content`` in ``lib/csvlib.class.php``), whose escape
character is the default backslash: inside quotes, ``\"`` does not end or double a
quote, so a backslash right before a double quote (``C:\dir\"x"``, or a cell ending in
a backslash) splits or swallows the rest of the row, and Moodle refuses the whole file
("csvweirdcolumns"). :func:`moodle_cell` keeps that pair out of every cell.

The plain CSV is the instructor's own table: every criterion's points, after-the-due-
date ones included, the comments of marks a person gave, and the status of each
student's grading.

A student with pending points (a GPU criterion, or a mark nobody has given yet) gets
no grade with ``--pending omit`` (Canvas: an empty cell, Moodle: ``-``, CSV: empty
points) or the points so far with ``--pending partial``; the notes list them either way.
"""

from __future__ import annotations

import re

from grader.exports.common import (
    ExportError,
    ExportOptions,
    Rendered,
    StudentGrade,
    cell,
    csv_text,
    one_line,
    student_criteria,
    summary_text,
    withheld,
)
from grader.exports.roster import column_name, ensure_unique
from grader.report.text import clean_text, number

CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
#: Roster column names read for each Canvas column (exact names: a generic "id"
#: is the grader's student id, not a Canvas user id, and must not be taken for one).
CANVAS_ROSTER_COLUMNS = {
    "Student": ("Student", "name", "Name", "full_name"),
    "ID": ("ID", "canvas_id", "canvas_user_id"),
    "SIS User ID": ("SIS User ID", "sis_user_id", "sis_id"),
    "SIS Login ID": ("SIS Login ID", "sis_login_id", "login_id"),
    "Section": ("Section", "section"),
}
CANVAS_IDS = ("ID", "SIS User ID", "SIS Login ID")
_CANVAS_TITLE_WITH_ID = re.compile(r"\s\((\d+)\)\Z")
#: Moodle user fields a grade import can match on, with the roster spellings read for each.
MOODLE_IDENTIFIERS = {
    "email": ("email", "Email", "Email address", "e-mail"),
    "idnumber": ("idnumber", "ID number", "id_number"),
    "username": ("username", "Username"),
}
MOODLE_GRADE_LIMIT = 100  # Moodle refuses larger grades unless $CFG->unlimitedgrades is on


def render_canvas(grades: list[StudentGrade], options: ExportOptions) -> Rendered:
    if not options.roster_given:
        raise ExportError(
            "--format canvas needs --roster: Canvas finds students by its ID, SIS User ID "
            "or SIS Login ID, which the gradebook does not know"
        )
    header = list(grades[0].roster_row or {}) if grades else []
    sources = {
        target: next((name for name in names if name in header), None)
        for target, names in CANVAS_ROSTER_COLUMNS.items()
    }
    if not any(sources[name] for name in CANVAS_IDS):
        raise ExportError(
            f"{options.roster_path}: Canvas needs an ID, SIS User ID or SIS Login ID column "
            f"in the roster (also read: canvas_id, sis_user_id, sis_login_id); found: "
            f"{', '.join(header) or 'nothing'}"
        )
    total = max((g.result.score.max_points for g in grades), default=0.0)
    rows = [[*CANVAS_HEADER, cell(_canvas_title(grades, options))]]
    rows.append(["Points Possible", "", "", "", "", number(total)])
    found = []
    for grade in grades:
        row = grade.roster_row or {}
        values = {t: row.get(s, "") if s else "" for t, s in sources.items()}
        if not any(values[name] for name in CANVAS_IDS):
            raise ExportError(
                f"{options.roster_path}: {grade.student!r} has no ID, SIS User ID or SIS "
                "Login ID in the roster, so Canvas cannot find them"
            )
        found.append((grade.student, values))
        score = "" if withheld(grade.result, options) else number(grade.result.score.points)
        rows.append([cell(values["Student"]), *(values[n] for n in CANVAS_HEADER[1:]), score])
    for name in CANVAS_IDS:
        ensure_unique([(s, v[name]) for s, v in found if v[name]], name, options.roster_path)
    return Rendered(csv_text(rows), _notes(grades, total, options))


def _canvas_title(grades: list[StudentGrade], options: ExportOptions) -> str:
    title = options.title or (grades[0].result.assignment_title if grades else "")
    if options.canvas_id is not None:
        if not options.canvas_id.isdigit():
            raise ExportError(
                f"--canvas-id {options.canvas_id!r}: a Canvas assignment id is a number "
                "(the one in the assignment's URL)"
            )
        return f"{title} ({options.canvas_id})"
    if _CANVAS_TITLE_WITH_ID.search(title):
        raise ExportError(
            f"the title {title!r} ends in a number in brackets, which Canvas reads as an "
            "assignment id; pass --canvas-id (or --title)"
        )
    return title


_BACKSLASH_BEFORE_QUOTE = re.compile(r'\\(?="|\Z)')


def moodle_cell(text: str) -> str:
    """A cell PHP's ``fgetcsv`` reads back whole: a space parts a backslash from a double
    quote after it or from the end of the cell (RFC 4180 readers are unaffected)."""
    return _BACKSLASH_BEFORE_QUOTE.sub(lambda _: "\\ ", text)


def render_moodle(grades: list[StudentGrade], options: ExportOptions) -> Rendered:
    title = options.title or (grades[0].result.assignment_title if grades else "")
    identifiers = _moodle_identifiers(grades, options)
    rows = [[*identifiers, moodle_cell(cell(title)), "Feedback"]]
    for grade in grades:
        ids = [moodle_cell(_moodle_id(grade, source)) for source in identifiers.values()]
        score = "-" if withheld(grade.result, options) else number(grade.result.score.points)
        rows.append([*ids, score, moodle_cell(cell(_feedback(grade, options)))])
    total = max((g.result.score.max_points for g in grades), default=0.0)
    notes = _notes(grades, total, options)
    if not options.roster_given:
        notes.append(
            "no roster: the 'student' column holds the gradebook's ids; on import, map it "
            "to the Moodle user field they are (username, idnumber or email)"
        )
    if total > MOODLE_GRADE_LIMIT:
        notes.append(
            f"grades go up to {number(total)}: Moodle refuses grades over 100 unless "
            "'unlimitedgrades' is enabled"
        )
    return Rendered(csv_text(rows), notes)


def _moodle_identifiers(grades: list[StudentGrade], options: ExportOptions) -> dict[str, str]:
    """Output column -> roster column, for the identifier columns every student has."""
    if not options.roster_given:
        return {"student": ""}
    header = list(grades[0].roster_row or {}) if grades else []
    present = {
        field: name
        for field, names in MOODLE_IDENTIFIERS.items()
        if (name := column_name(header, names)) is not None
    }
    if not present:
        raise ExportError(
            f"{options.roster_path}: Moodle needs an email, idnumber or username column in the "
            f"roster to find each student; found: {', '.join(header) or 'nothing'}"
        )
    complete = {}
    for field, name in present.items():
        missing = [g.student for g in grades if not (g.roster_row or {}).get(name)]
        if not missing:
            values = [(g.student, (g.roster_row or {})[name]) for g in grades]
            ensure_unique(values, field, options.roster_path)
            complete[field] = name
        elif len(present) == 1:
            raise ExportError(
                f"{options.roster_path}: {missing[0]!r} has no {name}; Moodle aborts an import "
                "with a row it cannot match"
            )
    if not complete:
        raise ExportError(
            f"{options.roster_path}: no identifier column ({', '.join(present.values())}) has "
            "a value for every student; Moodle aborts an import with a row it cannot match"
        )
    return complete


def _moodle_id(grade: StudentGrade, source: str) -> str:
    """The roster's value as it is (Moodle matches it exactly), or the gradebook's id, an
    untrusted file name, neutralised."""
    return (grade.roster_row or {}).get(source, "") if source else cell(grade.student)


def _feedback(grade: StudentGrade, options: ExportOptions) -> str:
    """One line: the score summary, then each criterion's points and student-safe text."""
    parts = [one_line(summary_text(grade.result))]
    for c in student_criteria(grade.result, options.released):
        parts.append(one_line(f"{c.name}: {number(c.points)}/{number(c.max_points)}. {c.text}"))
    return " | ".join(parts)


PLAIN_COLUMNS = ["student", "points", "max_points", "percent", "status"]
PLAIN_TAIL = ["pending_points", "pending_marks", "marks_to_review", "flagged", "error"]


def render_plain(grades: list[StudentGrade], options: ExportOptions) -> Rendered:
    criteria: dict[str, None] = {}
    for grade in grades:
        criteria.update(dict.fromkeys(c.id for c in grade.result.criteria))
    commented = [
        cid for cid in criteria if any(_comment(g, cid) for g in grades)
    ]  # a column for the comments of each criterion a person marked with one
    rows = [[*PLAIN_COLUMNS, *criteria, *(f"{cid}_comment" for cid in commented), *PLAIN_TAIL]]
    for grade in grades:
        result = grade.result
        earned = {c.id: c for c in result.criteria}
        shown = not (result.score.pending_points and options.pending == "omit")
        rows.append(
            [
                cell(grade.student),
                number(result.score.points) if shown else "",
                number(result.score.max_points),
                f"{result.score.percent:.1f}" if shown else "",
                _status(grade),
                *(_criterion_points(earned.get(cid)) for cid in criteria),
                *(cell(one_line(_comment(grade, cid))) for cid in commented),
                number(result.score.pending_points),
                " ".join(c.id for c in result.pending_manual),
                " ".join(c.id for c in result.marks_for_review),
                "yes" if result.flags else "",
                cell(one_line(clean_text(result.grading_error or ""))),
            ]
        )
    total = max((g.result.score.max_points for g in grades), default=0.0)
    return Rendered(csv_text(rows), _notes(grades, total, options, blank_errors=False))


def _comment(grade: StudentGrade, criterion_id: str) -> str:
    found = next((c for c in grade.result.criteria if c.id == criterion_id), None)
    return found.mark.comment if found is not None and found.mark is not None else ""


def _status(grade: StudentGrade) -> str:
    result = grade.result
    if result.grading_error:
        return "error"
    if result.score.pending_manual_points:
        return "pending_marks"
    return "pending_gpu" if result.score.pending_points else "graded"


def _criterion_points(criterion) -> str:
    if criterion is None or criterion.status in ("needs_gpu", "pending"):
        return ""
    return number(criterion.points)


def _notes(
    grades: list[StudentGrade], total: float, options: ExportOptions, blank_errors: bool = True
) -> list[str]:
    """What the instructor should know before uploading: the grades that are not final."""
    notes = []
    failed = [g.student for g in grades if g.result.grading_error]
    if failed and blank_errors:
        notes.append(
            f"{len(failed)} student(s) left without a grade because grading failed: "
            f"{_names(failed)}; fix and regrade, or grade them by hand"
        )
    ungraded = [g for g in grades if not g.result.grading_error]
    gpu = [g.student for g in ungraded if g.result.score.pending_points > _manual(g) + 1e-9]
    marks = [g.student for g in ungraded if _manual(g)]
    what = (
        "left without a grade (--pending partial posts the points so far)"
        if options.pending == "omit"
        else "given the points so far (--pending omit leaves their grade out)"
    )
    if gpu:
        notes.append(f"{len(gpu)} student(s) have points pending a GPU, {what}: {_names(gpu)}")
    if marks:
        notes.append(
            f"{len(marks)} student(s) have marks nobody has given yet (grader mark), "
            f"{what}: {_names(marks)}"
        )
    review = [g.student for g in grades if g.result.marks_for_review]
    if review:
        notes.append(
            f"{len(review)} student(s) have marks given for an earlier notebook, counted but "
            f"to review (grader mark --confirm, or mark again): {_names(review)}"
        )
    fewer = [g.student for g in grades if g.result.score.max_points < total]
    if fewer:
        notes.append(
            f"{len(fewer)} student(s) were graded out of fewer than {number(total)} points "
            f"(a criterion excluded for want of a GPU, or an older rubric): {_names(fewer)}"
        )
    flagged = [g.student for g in grades if g.result.flags]
    if flagged:
        notes.append(f"{len(flagged)} attempt(s) flagged for review: {_names(flagged)}")
    return notes


def _manual(grade: StudentGrade) -> float:
    return grade.result.score.pending_manual_points


def _names(students: list[str]) -> str:
    return ", ".join(students[:5]) + (", …" if len(students) > 5 else "")
