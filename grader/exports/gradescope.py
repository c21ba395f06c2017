"""Gradescope: ``results.json`` for one submission, and the autograder's entry scripts.

Gradescope reads only ``/autograder/results/results.json`` (see its autograder
specification). Each criterion is a test whose ``score`` is the points it counts and
whose ``max_score`` is the points it can count, so the tests add up to the top-level
``score``, which we set too because it overrides their sum.

Visibility follows Gradescope's meaning of its four values. Our ``after_due_date`` is
theirs: the test is shown after the (late) due date, and students do not see their
total before then. Our ``hidden`` means "result and feedback, but no details", while
Gradescope's ``hidden`` means "never shown" and is meant for tests worth no points; so
a hidden criterion is a ``visible`` test whose output is its feedback alone, exactly
as the student report shows it.

A criterion left out of the total (it needs a GPU the grader lacked) is not a test:
Gradescope marks a test passed when its score equals its max_score, and a test that
never ran, worth 0 of 0, would show as a green pass. Gradescope's only test statuses
are ``passed`` and ``failed`` (``docs/specs.md``, "Test case status"), neither of which
is true of it, so it is named in the submission's ``output`` instead. A criterion
still pending (a GPU, a mark) stays a test worth its points, scoring 0 for now: its
name says it is pending, so the failing mark Gradescope gives it is explained.
"""

from __future__ import annotations

import json
import re
import stat
from importlib import resources
from pathlib import Path

import grader
from grader.exports.common import (
    ExportError,
    ExportOptions,
    StudentCriterion,
    StudentGrade,
    points,
    student_criteria,
    summary_text,
)
from grader.results import GradingResult

#: Gradescope's documented test visibility values.
VISIBILITY_VALUES = ("hidden", "after_due_date", "after_published", "visible")
#: Autograder zip entries, and the package templates they are written from.
AUTOGRADER_FILES = {
    "run_autograder": "gradescope_run_autograder.sh",
    "setup.sh": "gradescope_setup.sh",
}
_ASSIGNMENT_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def results_document(grade: StudentGrade, options: ExportOptions) -> dict:
    """The ``results.json`` Gradescope shows the student (``options`` are not needed:
    Gradescope itself withholds after-the-due-date tests until the due date)."""
    result = grade.result
    criteria = student_criteria(result)
    graded = [c for c in criteria if not c.excluded]
    tests = [_test(number, c) for number, c in enumerate(graded, start=1)]
    return {
        "score": points(result.score.points),
        "execution_time": round(result.timings.total_s),
        "output": _output(result, [c for c in criteria if c.excluded]),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "dlgrader": {
                "assignment": result.assignment,
                "graded_at": result.graded_at,
                "max_points": points(result.score.max_points),
                "pending_points": points(result.score.pending_points),
                "pending_manual_points": points(result.score.pending_manual_points),
                "excluded_points": points(result.score.excluded_points),
                "notebook_sha256": result.submission.sha256,
            }
        },
    }


def _output(result: GradingResult, excluded: list[StudentCriterion]) -> str:
    """The submission's message, naming each criterion that is not a test."""
    lines = [summary_text(result, with_score=False)]
    lines += [f"Not graded, and not in the total: {c.name} (it needs a GPU)." for c in excluded]
    return "\n".join(line for line in lines if line)


def _test(number: int, c: StudentCriterion) -> dict:
    test: dict = {
        "name": c.shown_name,
        "number": str(number),
        "score": points(c.points),
        "max_score": points(c.max_points),
        "output": c.text,
        "tags": [c.id],
        "visibility": "after_due_date" if c.visibility == "after_due_date" else "visible",
    }
    if not c.pending:  # waiting (GPU, a mark) is neither a pass nor a failure
        test["status"] = "passed" if c.passed else "failed"
    return test


def render(grade: StudentGrade, options: ExportOptions) -> str:
    return json.dumps(results_document(grade, options), indent=2, ensure_ascii=False) + "\n"


def write_autograder(assignment: str, folder: Path) -> list[Path]:
    """``run_autograder`` and ``setup.sh`` for a Gradescope autograder zip, in ``folder``.

    The assignment name goes into a shell script, so it must be a plain name.
    """
    if not _ASSIGNMENT_NAME.match(assignment):
        raise ExportError(
            f"assignment name {assignment!r} is not a plain name (letters, digits, _ and -)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, template in AUTOGRADER_FILES.items():
        text = resources.files("grader.exports").joinpath(template).read_text(encoding="utf-8")
        text = text.replace("@ASSIGNMENT@", assignment).replace("@VERSION@", grader.__version__)
        path = folder / name
        path.write_text(text, encoding="utf-8", newline="\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        written.append(path)
    return written
