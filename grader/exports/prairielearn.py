"""PrairieLearn: the external grader's ``results.json`` for one submission.

PrairieLearn wants ``score`` as a fraction in [0, 1]; ``gradable: false`` when the
submission could not be graded at all (the student loses no attempt and sees the
``format_errors``); per-test ``points``/``max_points`` on *every* test (one missing
turns the per-test points display off for all); and a file under 1 MB, or the
results are thrown away. Text fields are cut down, longest first, until the file fits.

PrairieLearn shows results at once and has no "after the due date", so those
criteria are folded into one line unless ``--released`` is given (see
:func:`grader.exports.common.fold_released_later`).
"""

from __future__ import annotations

import json

from grader.exports.common import (
    ExportOptions,
    StudentGrade,
    fraction,
    points,
    student_criteria,
    summary_text,
)
from grader.report.text import clean_text

#: PrairieLearn discards results files larger than 1 MB; stay under the smaller reading.
MAX_BYTES = 1_000_000
TRUNCATED = "\n… [cut to fit PrairieLearn's 1 MB limit on results]"


def results_document(grade: StudentGrade, options: ExportOptions) -> dict:
    result = grade.result
    if result.grading_error:
        return {
            "gradable": False,
            # Cleaned and cut like every other text: a runaway error must not push the
            # file past PrairieLearn's 1 MB, where the whole result is thrown away.
            "format_errors": [clean_text(result.grading_error)],
            "message": summary_text(result),
        }
    tests = [
        {
            "name": c.shown_name,
            "points": points(c.points),
            "max_points": points(c.max_points),
            "message": c.text,
        }
        for c in student_criteria(result, released=options.released)
    ]
    return {
        "gradable": True,
        "score": round(fraction(result), 6),
        "message": summary_text(result),
        "tests": tests,
    }


def render(grade: StudentGrade, options: ExportOptions) -> str:
    return fit(results_document(grade, options), MAX_BYTES)


def fit(document: dict, limit: int) -> str:
    """``document`` as JSON of at most ``limit`` bytes, its text fields cut as needed.

    The cap on each text field is halved until the whole fits, so short messages stay
    whole and only the long ones (tracebacks, long details) lose their middle.
    """
    text = _dump(document)
    cap = max((len(s) for s in _texts(document)), default=0)
    while len(text.encode("utf-8")) > limit and cap > 0:
        cap //= 2
        text = _dump(_capped(document, cap))
    if len(text.encode("utf-8")) > limit:
        raise ValueError(f"results do not fit in {limit} bytes even without their text")
    return text


def _dump(document: dict) -> str:
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _texts(document: dict) -> list[str]:
    found = [document.get("message", "")]
    found += [t.get("message", "") for t in document.get("tests", [])]
    return found


def _capped(document: dict, cap: int) -> dict:
    def cut(value: str) -> str:
        if len(value) <= cap:
            return value
        head = max(0, cap - len(TRUNCATED))
        return value[:head] + TRUNCATED

    capped = dict(document)
    if "message" in capped:
        capped["message"] = cut(capped["message"])
    if "tests" in capped:
        capped["tests"] = [{**t, "message": cut(t["message"])} for t in capped["tests"]]
    return capped
