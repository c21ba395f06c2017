"""Grades for learning platforms, from the batch gradebook (``grader export``).

:data:`FORMATS` is the registry: a format's name -> how it is explained and written.
Formats come in three layouts: one document per student (Gradescope, PrairieLearn and
GitHub Classroom read one submission's results inside their own runners), one file for
the class (Canvas, Moodle, JUnit, plain CSV), and the Gradescope autograder's entry
scripts. Every writer reads only :class:`grader.results.GradingResult`, through the
student-safe view in :mod:`grader.exports.common`.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from grader.batch.gradebook import Choice, Gradebook
from grader.exports import ci, classroom, gradescope, lms_csv, prairielearn
from grader.exports.common import (
    PENDING_CHOICES,
    ExportError,
    ExportFormat,
    ExportOptions,
    StudentGrade,
    safe_file_name,
)
from grader.exports.roster import join_roster, read_roster
from grader.results import GradingResult

__all__ = [
    "FORMATS",
    "PENDING_CHOICES",
    "ExportError",
    "ExportOptions",
    "StudentGrade",
    "write_export",
]

FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "gradescope",
            "Gradescope results.json per student: a test per criterion (score, max_score, "
            "status, output), visibility visible or after_due_date, top-level score.",
            "per_student",
            ".json",
            render_one=gradescope.render,
        ),
        ExportFormat(
            "gradescope-autograder",
            "run_autograder + setup.sh for a Gradescope autograder zip: grades the uploaded "
            "notebook and writes /autograder/results/results.json (-o is a folder).",
            "autograder",
            "",
        ),
        ExportFormat(
            "prairielearn",
            "PrairieLearn external-grader results.json per student: score in [0, 1], "
            "gradable false when the notebook could not be graded, tests, under 1 MB.",
            "per_student",
            ".json",
            render_one=prairielearn.render,
        ),
        ExportFormat(
            "github-classroom",
            "GitHub Classroom grading reporter input per student: a version 3 runner result "
            "per criterion (partial credit split in earned and missed), so the reporter's "
            "log shows the true points; see docs/exports.md for the workflow step.",
            "per_student",
            ".json",
            render_one=classroom.render,
        ),
        ExportFormat(
            "canvas",
            "Canvas gradebook import CSV: Student, ID, SIS User ID, SIS Login ID, Section, "
            "'Title (id)', with a Points Possible row; needs --roster.",
            "class",
            ".csv",
            render_class=lms_csv.render_canvas,
            needs_roster=True,
            grade_table=True,
        ),
        ExportFormat(
            "moodle",
            "Moodle grade import CSV: identifier columns (email, idnumber, username from the "
            "roster), a grade column and a Feedback column.",
            "class",
            ".csv",
            render_class=lms_csv.render_moodle,
            grade_table=True,
        ),
        ExportFormat(
            "junit",
            "JUnit XML: a testsuite per student with scores as <properties>, a testcase per "
            "criterion, <failure> with the feedback (GitLab, Jenkins).",
            "class",
            ".xml",
            render_class=ci.render_junit,
        ),
        ExportFormat(
            "csv",
            "Plain CSV for the instructor: student, points, max_points, percent, status, "
            "each criterion's points, comments of marks, pending points, pending marks, "
            "marks to review, flagged, error.",
            "class",
            ".csv",
            render_class=lms_csv.render_plain,
            grade_table=True,
        ),
    )
}


@dataclass
class Written:
    """What an export wrote (nothing listed for stdout) and what to check before upload."""

    paths: list[Path]
    notes: list[str]


def gradebook_grades(path: Path, assignment: str | None, choose: Choice) -> list[StudentGrade]:
    """Each student's counting attempt (latest or best) of ``assignment`` in the gradebook,
    with the marks people gave (``grader mark``)."""
    if not path.is_file():
        raise ExportError(f"no gradebook at {path}: run grader batch first, or pass --gradebook")
    try:
        return _final_grades(path, assignment, choose)
    except sqlite3.DatabaseError as exc:
        raise ExportError(f"{path}: not a readable gradebook ({exc})") from None


def _final_grades(path: Path, assignment: str | None, choose: Choice) -> list[StudentGrade]:
    with Gradebook(path) as gradebook:
        known = gradebook.assignments()
        if assignment is None:
            if len(known) != 1:
                raise ExportError(
                    f"{path} holds {len(known)} assignments ({', '.join(known) or 'none'}); "
                    "pick one with --assignment"
                )
            assignment = known[0]
        if assignment not in known:
            raise ExportError(
                f"{path} has no attempts for {assignment!r} (it has: {', '.join(known) or 'none'})"
            )
        return [
            StudentGrade(a.student, result)
            for a, result in gradebook.final_results(assignment, choose)
        ]


def results_file_grade(path: Path) -> StudentGrade:
    """One student's grade from a ``results.json`` written by ``grader grade``."""
    try:
        result = GradingResult.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ExportError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "the document"
        raise ExportError(
            f"{path}: not a dlgrader results.json ({where}: {error['msg']})"
        ) from None
    return StudentGrade(Path(result.submission.name).stem or "submission", result)


def with_roster(grades: list[StudentGrade], roster_path: Path) -> tuple[list[StudentGrade], int]:
    """The grades joined to the roster, and how many roster students have no grade."""
    roster = read_roster(roster_path)
    joined = join_roster(grades, roster)
    matched = {id(g.roster_row) for g in joined}
    return joined, sum(1 for row in roster.rows.values() if id(row) not in matched)


def write_export(
    fmt: ExportFormat, grades: list[StudentGrade], output: Path, options: ExportOptions
) -> Written:
    """Write ``grades`` in ``fmt`` to ``output`` (``-``: stdout, for one document)."""
    if not grades:
        raise ExportError("no graded students to export")
    if fmt.layout == "class":
        assert fmt.render_class is not None
        rendered = fmt.render_class(grades, options)
        return Written(_write(output, rendered.text), rendered.notes)
    assert fmt.render_one is not None
    if str(output) == "-" or output.suffix == ".json":
        if len(grades) != 1:
            raise ExportError(
                f"-o {output} holds one student's results, but there are {len(grades)}; "
                "give a folder to get FOLDER/STUDENT/results.json"
            )
        return Written(_write(output, fmt.render_one(grades[0], options)), [])
    paths = []
    for grade in grades:
        target = output / safe_file_name(grade.student) / "results.json"
        paths += _write(target, fmt.render_one(grade, options))
    return Written(paths, [])


def _write(path: Path, text: str) -> list[Path]:
    """Write whole or not at all: a platform reading a half-written file fails obscurely."""
    if str(path) == "-":
        sys.stdout.write(text)
        return []
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return [path]
