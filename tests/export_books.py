"""Gradebooks and ``grader export`` calls for the export tests (no kernels).

Gradebooks are built in tmp_path from the report's sample results: a full-marks one, a
mixed one (a partial, a hidden, an after-the-due-date, an erroring, a not-run and two GPU
criteria) and a crashed one. ``run``/``refused`` export one format and return its output
or its one-line input error.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from grader.batch.gradebook import Gradebook
from grader.cli import export as cli_export
from grader.errors import GraderError
from grader.report import samples
from grader.results import Submission

GROUP = click.Group()
cli_export.register(GROUP)
HIDDEN_DETAIL = "max relative error 0.31"  # the hidden criterion's detail in samples.mixed()
LATER_DETAIL = "accuracy = 0.97 (full data)"  # the after-the-due-date criterion's detail
CANVAS_TITLE = re.compile(r"\A(.*)\s\((\d+)\)\Z")  # Canvas's Assignment.title_and_id


def graded(student: str, result=None, **update):
    result = result or samples.mixed()
    sha = (student.encode().hex() * 64)[:64]
    submission = Submission(
        path=f"/s/{student}.ipynb", name=f"{student}.ipynb", sha256=sha, size_bytes=1
    )
    return result.model_copy(
        update={"assignment": "lenet5", "mode": "grade", "submission": submission, **update}
    )


def crashed(student: str):
    return graded(student, grading_error="the notebook could not be run: RuntimeError: no kernel")


def book(tmp_path: Path, *entries) -> Path:
    path = tmp_path / "out" / "gradebook.sqlite"
    with Gradebook(path) as gradebook:
        for student, result in entries:
            gradebook.record(student, result, tmp_path / "r.json", result.model_dump_json())
    return path


def class_book(tmp_path: Path) -> Path:
    return book(
        tmp_path,
        ("alice", graded("alice", samples.full_marks())),
        ("bob", graded("bob")),
        ("carol", crashed("carol")),
    )


def roster(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


CANVAS_ROSTER = (
    "Student,ID,SIS User ID,SIS Login ID,Section\n"
    "    Points Possible,,,,\n"
    '"Doe, Alice",101,S1,alice,Sec 1\nBob B,102,S2,bob,Sec 2\n'
    "Carol C,103,S3,carol,Sec 1\nDan D,104,S4,dan,Sec 2\n"
)
MOODLE_ROSTER = "id,name,email\nalice,Alice,a@x.edu\nbob,Bob,b@x.edu\ncarol,Carol,c@x.edu\n"


def export(*args: str):
    return CliRunner().invoke(GROUP, ["export", *map(str, args)])


def ok(*args: str) -> str:
    result = export(*args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def fails(*args: str) -> str:
    """The one-line message of the input error the export stopped on (exit code 2)."""
    result = export(*args)
    error = result.exception
    assert isinstance(error, GraderError), (result.output, error)
    assert error.exit_code == 2 and "\n" not in str(error)
    return str(error)


def run(fmt: str, gradebook: Path, *more) -> str:
    """Export the gradebook in ``fmt``; the output when it goes to stdout (``-o -``)."""
    return ok("--format", fmt, "--gradebook", gradebook, *more)


def refused(fmt: str, gradebook: Path, *more) -> str:
    return fails("--format", fmt, "--gradebook", gradebook, *more)


def no_test_source(text: str) -> None:
    assert "hidden/test_" not in text and "::test_" not in text
