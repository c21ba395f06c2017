"""GitHub Classroom: runner results for the autograding grading reporter.

The reporter (``classroom-resources/autograding-grading-reporter``) reads one base64
JSON document per *runner*, ``{version: 3, status, max_score, tests: [{name, status,
message, score, ...}]}``, from the environment variable ``RUNNER_RESULTS`` of each
runner named in its ``runners`` input. It records the grade as the sum of every
``tests[].score`` over the sum of the runners' ``max_score`` ("Points X/Y",
``src/notify-classroom.js``), which is right for any document. But its log prints each
runner's points as ``passed tests / tests * max_score`` (``getTestScore`` in
``src/helpers/test-helpers.js``), and its table adds up those numbers: one runner
holding a whole notebook with partial credit shows 38.46/50 for a 32/50 grade.

So each criterion is a runner of its own with one test, worth the criterion's points:
a pass shows ``max/max`` and a fail ``0/max``, both true. A criterion with partial
credit is two runners, ``ID`` (the points earned, a passing test) and ``ID_missed``
(the rest, a failing test), so the log's rows and its total show the true numbers.
A pending criterion (a GPU, a mark) is an ``error`` test scoring 0: the reporter
prints its message ("pending ...") instead of a pass or a fail. A criterion excluded
from the total is left out (the summary says so). A notebook that could not be graded
is one ``grading`` runner with an ``error`` test worth the whole assignment.

The export is one JSON document per student: ``summary`` (the submission's message),
``runners`` (the names, comma-separated, for the reporter's ``runners`` input) and
``results`` (runner name -> its v3 document). ``docs/exports.md`` shows the workflow
step that hands them to the reporter.
"""

from __future__ import annotations

import json
import re

from grader.exports.common import (
    ExportOptions,
    StudentCriterion,
    StudentGrade,
    points,
    student_criteria,
    summary_text,
)
from grader.report.text import number

#: The statuses the reporter knows: it fails the job on "fail" and "error".
GITHUB_STATUSES = ("pass", "fail", "error")
#: The Python runner cuts test output to 500 characters; messages get the same room.
GITHUB_MESSAGE_LIMIT = 500
MISSED_SUFFIX = "_missed"
_NOT_NAME = re.compile(r"[^a-z0-9_]+")


def classroom_document(grade: StudentGrade, options: ExportOptions) -> dict:
    """Every runner of one student's submission, and their names in reporter order."""
    result = grade.result
    summary = summary_text(result)
    if result.grading_error:
        runners = {"grading": _runner("error", result.score.max_points, [_error_test(summary)])}
    else:
        runners = {}
        criteria = [c for c in student_criteria(result, options.released) if not c.excluded]
        for c in criteria:
            name = _runner_name(c.id, runners)
            for suffix, runner in _criterion_runners(c).items():
                runners[name + suffix] = runner
    return {
        "summary": _short(summary),
        "runners": ",".join(runners),
        "results": runners,
    }


def _criterion_runners(c: StudentCriterion) -> dict[str, dict]:
    """One runner for an all-or-nothing result, two (earned, missed) for partial credit."""
    if c.pending or c.status in ("error", "not_run"):
        test = _test(c.name, "error", 0.0, c.text or f"{c.name}: not graded.")
        return {"": _runner("error", c.max_points, [test])}
    earned, total = points(c.points), points(c.max_points)
    if earned >= total:
        return {"": _runner("pass", total, [_test(c.name, "pass", earned, c.text)])}
    if earned <= 0:
        return {"": _runner("fail", total, [_test(c.name, "fail", 0.0, c.text)])}
    got = _test(
        f"{c.name}: {number(earned)} of {number(total)} points earned", "pass", earned, c.text
    )
    lost = _test(
        f"{c.name}: {number(total - earned)} of {number(total)} points not earned",
        "fail",
        0.0,
        c.text,
    )
    return {
        "": _runner("pass", earned, [got]),
        MISSED_SUFFIX: _runner("fail", points(total - earned), [lost]),
    }


def _runner(status: str, max_score: float, tests: list[dict]) -> dict:
    return {"version": 3, "status": status, "max_score": points(max_score), "tests": tests}


def _test(name: str, status: str, score: float, message: str) -> dict:
    return {
        "name": name,
        "status": status,
        "message": _short(message),
        "test_code": "",  # our tests are hidden: never their source
        "filename": "",
        "line_no": 0,
        "duration": 0,
        "score": points(score),
    }


def _error_test(summary: str) -> dict:
    return _test("Grading", "error", 0.0, summary)


def _runner_name(criterion_id: str, taken: dict[str, dict]) -> str:
    """A runner name the reporter can read back from ``NAME_RESULTS`` (letters, digits,
    underscores; unique, and never mistaken for another criterion's ``_missed`` half)."""
    base = _NOT_NAME.sub("_", criterion_id.lower()).strip("_") or "criterion"
    if not base[0].isalpha():
        base = "c_" + base
    name, count = base, 1
    while name in taken or name + MISSED_SUFFIX in taken or name.endswith(MISSED_SUFFIX):
        count += 1
        name = f"{base}_{count}"
    return name


def _short(text: str) -> str:
    if len(text) <= GITHUB_MESSAGE_LIMIT:
        return text
    return text[: GITHUB_MESSAGE_LIMIT - 1] + "…"


def render(grade: StudentGrade, options: ExportOptions) -> str:
    return json.dumps(classroom_document(grade, options), indent=2, ensure_ascii=False) + "\n"
