"""Every export format read by its platform's own consumer, on classes of students: the
report's samples, an adversarial class, and a class for every bundled lab scored from
its rubric (tests/export_classes.py). Each consumer is also shown refusing, or
misreading, a deliberately broken file.

The readers and where each comes from: tests/export_consumers.py (PHP's fgetcsv as
Moodle calls it, xmllint with Jenkins xUnit's schema, junitparser, the Classroom
reporter's JavaScript) and tests/export_rules.py (Gradescope, PrairieLearn, Canvas).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from export_classes import LABS, ROOT, adversarial_class, lab_class, roster_for, sample_class
from export_consumers import (
    Rejected,
    csv_rows,
    junit_counts,
    moodle_rows,
    reporter_arithmetic,
    run_reporter,
    xunit_validate,
)
from export_rules import canvas_read, gradescope_read, junit_schema_rules, prairielearn_read

from grader.cli import main
from grader.exports import FORMATS, ExportOptions, StudentGrade, gradebook_grades
from grader.exports.common import fraction, student_criteria, withheld
from grader.report.text import number

CLASSES = {
    "samples": sample_class,
    "adversarial": adversarial_class,
    **{f"lab-{lab}": (lambda lab=lab: lab_class(lab)) for lab in LABS},
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN = ExportOptions()
ROSTERED = ExportOptions(roster_given=True, canvas_id="4567")


def render_class(fmt: str, grades: list[StudentGrade], options: ExportOptions = PLAIN) -> str:
    return FORMATS[fmt].render_class(grades, options).text


def render_one(fmt: str, grade: StudentGrade) -> str:
    return FORMATS[fmt].render_one(grade, PLAIN)


def grade_cell(grade: StudentGrade, no_grade: str, options=ROSTERED) -> str:
    """What a grade table must hold for the student: the points, or the platform's
    "no grade" when grading failed or points are pending (``--pending omit``)."""
    return no_grade if withheld(grade.result, options) else number(grade.result.score.points)


def without_php_space(value: str) -> str:
    """A Moodle cell without the space the export puts after a backslash before a quote."""
    return re.sub(r'\\ (?="|\Z)', lambda _: "\\", value)


def assert_no_formula(cells: list[str]) -> None:
    for value in cells:
        assert not value.startswith(FORMULA_START), value[:80]


@pytest.fixture(params=list(CLASSES))
def grades(request) -> list[StudentGrade]:
    return roster_for(CLASSES[request.param]())


# -- Moodle ------------------------------------------------------------------------


def test_moodle_csv_is_read_whole_by_phps_fgetcsv(grades):
    rows = moodle_rows(render_class("moodle", grades, ROSTERED))
    assert len(rows) == len(grades)  # one row per student, every row the header's width
    assert list(rows[0])[:3] == ["email", "idnumber", "username"]  # 5 columns in all
    title = grades[0].result.assignment_title
    for row, grade in zip(rows, grades, strict=True):
        assert row["email"] == grade.roster_row["email"]
        assert row[title] == grade_cell(grade, "-")
        assert_no_formula([row["Feedback"]])
    plain = moodle_rows(render_class("moodle", grades))  # no roster: the gradebook's ids
    ids = [without_php_space(row["student"]).removeprefix("'") for row in plain]
    assert ids == [g.student.replace("\r\n", "\n") for g in grades]  # Moodle's own CRLF -> LF
    assert_no_formula([row["student"] for row in plain])


def test_moodle_reader_refuses_a_backslash_before_a_quote():
    broken = 'email,Lab,Feedback\r\na@x,1,"C:\\dir\\""x"", y"\r\nb@x,2,ok\r\n'
    with pytest.raises(Rejected, match="csvweirdcolumns"):
        moodle_rows(broken)


# -- Canvas ------------------------------------------------------------------------


def test_canvas_csv_follows_the_gradebook_importer(grades):
    read = canvas_read(render_class("canvas", grades, ROSTERED))
    assert read["assignments"] == [(grades[0].result.assignment_title, "4567")]
    total = max(g.result.score.max_points for g in grades)
    assert read["points_possible"] == [number(total)]
    assert len(read["students"]) == len(grades)
    for grade in grades:
        assert read["students"][grade.roster_row["ID"]] == [grade_cell(grade, "")]
    rows = csv_rows(render_class("canvas", grades, ROSTERED))
    assert_no_formula([row[0] for row in rows])


@pytest.mark.parametrize(
    "broken, reason",
    [
        ("Student,ID,Section,Lab\r\nA,1,x,3\r\n", "header"),
        ("Student,ID,SIS User ID,SIS Login ID,Section,Lab\r\nA,1,S,l,x\r\n", "cells"),
        ("Student,ID,SIS User ID,SIS Login ID,Section,Lab\r\nA,,,,x,3\r\n", "names no ID"),
        ('Student,ID,SIS User ID,SIS Login ID,Section,Lab\r\n"A"x",1,S,l,x,3\r\n', "parser"),
    ],
)
def test_canvas_reader_refuses_broken_files(broken, reason):
    with pytest.raises(Rejected, match=reason):
        canvas_read(broken)


# -- plain CSV -----------------------------------------------------------------------


def test_plain_csv_has_a_row_per_student_and_no_formula(grades):
    header, *rows = csv_rows(render_class("csv", grades))
    assert len(rows) == len(grades)
    for row, grade in zip(rows, grades, strict=True):
        values = dict(zip(header, row, strict=True))
        # The instructor's table leaves pending points out; a crash shows its points
        # beside the status "error".
        pending = grade.result.score.pending_points > 0
        assert values["points"] == ("" if pending else number(grade.result.score.points))
        assert (values["status"] == "error") == bool(grade.result.grading_error)
        assert values["max_points"] == number(grade.result.score.max_points)
        assert_no_formula(row)


# -- JUnit -------------------------------------------------------------------------


def junit_file(tmp_path: Path, grades: list[StudentGrade], text: str | None = None) -> Path:
    path = tmp_path / "junit.xml"
    path.write_text(text if text is not None else render_class("junit", grades), "utf-8")
    return path


def test_junit_is_read_by_junitparser(tmp_path, grades):
    suites = junit_counts(junit_file(tmp_path, grades))
    assert list(suites) == [g.student for g in grades]  # one suite per student
    for grade in grades:
        suite = suites[grade.student]
        assert suite["score"] == number(grade.result.score.points)
        shown = student_criteria(grade.result, released=False)
        assert suite["tests"] == len(shown)
        assert suite["failures"] == sum(c.status in ("failed", "partial") for c in shown)


def test_junit_follows_the_xunit_schemas_rules(grades):
    junit_schema_rules(render_class("junit", grades))


def test_junit_validates_against_jenkins_xunit_schema(tmp_path, grades):
    xunit_validate(junit_file(tmp_path, grades))


def test_junit_consumers_refuse_broken_files(tmp_path):
    grades = sample_class()
    text = render_class("junit", grades)
    with_skipped = text.replace("<testsuites ", '<testsuites skipped="1" ', 1)
    with pytest.raises(Rejected, match="junitparser"):
        junit_counts(junit_file(tmp_path, grades, text[: len(text) // 2]))
    with pytest.raises(Rejected, match=r"<testsuites> has attributes"):
        junit_schema_rules(with_skipped)
    with pytest.raises(Rejected, match="junit-10.xsd"):
        xunit_validate(junit_file(tmp_path, grades, with_skipped))


# -- Gradescope --------------------------------------------------------------------


def gradescope_shown(grade: StudentGrade, text: str) -> dict:
    """Gradescope's reading, checked against the grade: the score, and no test shown
    passed unless its criterion passed (or, folded, every folded one did)."""
    read = gradescope_read(text)
    statuses = {c.id: c.status for c in grade.result.criteria}
    for test in read["tests"]:
        passed = all(statuses.get(tag) == "passed" for tag in test.get("tags", []))
        if test["shown"] == "passed" and not passed:
            raise Rejected(f"Gradescope shows {test['name']!r} passed; it did not pass")
    if read["score"] != pytest.approx(grade.result.score.points):
        raise Rejected(f"score {read['score']} for {grade.result.score.points} points")
    return read


def test_gradescope_shows_the_true_score_and_statuses(grades):
    for grade in grades:
        read = gradescope_shown(grade, render_one("gradescope", grade))
        excluded = [c for c in student_criteria(grade.result) if c.excluded]
        assert not {c.id for c in excluded} & {t for x in read["tests"] for t in x["tags"]}
        for c in excluded:
            assert f"Not graded, and not in the total: {c.name}" in read["output"]


def test_gradescope_rules_refuse_broken_files():
    grade = sample_class()[1]  # mixed: one GPU criterion excluded from the total
    doc = json.loads(render_one("gradescope", grade))
    zero = {"name": "GPU memory use", "score": 0, "max_score": 0, "tags": ["gpu_mem"]}
    with pytest.raises(Rejected, match="shows 'GPU memory use' passed"):
        gradescope_shown(grade, json.dumps({**doc, "tests": [*doc["tests"], zero]}))
    pending = copy.deepcopy(doc)
    pending["tests"][0]["status"] = "pending"
    with pytest.raises(Rejected, match="only passed and failed"):
        gradescope_read(json.dumps(pending))


# -- PrairieLearn ------------------------------------------------------------------


def test_prairielearn_reads_the_true_score(grades):
    for grade in grades:
        read = prairielearn_read(render_one("prairielearn", grade))
        if grade.result.grading_error:
            assert read["gradable"] is False and read["format_errors"]
            continue
        assert read["score"] == pytest.approx(fraction(grade.result), abs=1e-6)  # 6 places
        assert read["points"] == pytest.approx(grade.result.score.points)
        assert read["max_points"] == pytest.approx(grade.result.score.max_points)
        passed = {c.shown_name for c in student_criteria(grade.result, False) if _full(c)}
        assert all(t["name"] in passed for t in read["tests"] if t["shown"] == "correct")


def _full(c) -> bool:
    """Passed; or, for the folded after-the-due-date entry, every folded criterion full."""
    return c.passed or (c.status == "released_later" and c.points >= c.max_points)


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda d: d.update(score=1.5), "not a number in"),
        (lambda d: d["tests"][0].pop("max_points"), "lacks points"),
        (lambda d: d.update(message="x" * 1_000_001), "over 1 MB"),
        (lambda d: d.update(gradable="no"), "not a boolean"),
    ],
)
def test_prairielearn_rules_refuse_broken_files(change, reason):
    doc = json.loads(render_one("prairielearn", sample_class()[1]))
    change(doc)
    with pytest.raises(Rejected, match=reason):
        prairielearn_read(json.dumps(doc))


# -- GitHub Classroom --------------------------------------------------------------


def classroom_truth(grade: StudentGrade) -> tuple[float, float]:
    score = grade.result.score
    return (0.0 if grade.result.grading_error else score.points), score.max_points


def test_classroom_reporter_arithmetic_shows_the_true_points(grades):
    for grade in grades:
        document = json.loads(render_one("github-classroom", grade))
        shown = reporter_arithmetic(document)
        total = tuple(sum(values) for values in zip(*shown.values(), strict=True))
        assert total == pytest.approx(classroom_truth(grade))


def test_classroom_reporter_javascript_logs_the_true_points(grades):
    for grade in grades:
        document = json.loads(render_one("github-classroom", grade))
        log = run_reporter(document)
        assert log["points"] == pytest.approx(classroom_truth(grade))
        assert log["table_total"] == pytest.approx(classroom_truth(grade))
        assert log["failed"] == (grade.result.score.points < grade.result.score.max_points)


def one_runner(document: dict) -> dict:
    """The old representation: every criterion a test of one runner."""
    tests = [t for r in document["results"].values() for t in r["tests"]]
    status = "pass" if all(t["status"] == "pass" for t in tests) else "fail"
    total = sum(r["max_score"] for r in document["results"].values())
    runner = {"version": 3, "status": status, "max_score": total, "tests": tests}
    return {"runners": "lab", "results": {"lab": runner}}


def test_classroom_consumers_misread_one_runner_with_partial_credit():
    document = json.loads(render_one("github-classroom", sample_class()[1]))
    with pytest.raises(Rejected, match="the log shows"):
        reporter_arithmetic(one_runner(document))
    log = run_reporter(one_runner(document))
    assert log["table_total"] != pytest.approx(log["points"])  # the misread the issue saw


# -- a class graded for real -----------------------------------------------------------

CHECKS = [
    test_moodle_csv_is_read_whole_by_phps_fgetcsv,
    test_canvas_csv_follows_the_gradebook_importer,
    test_plain_csv_has_a_row_per_student_and_no_formula,
    test_gradescope_shows_the_true_score_and_statuses,
    test_prairielearn_reads_the_true_score,
    test_classroom_reporter_arithmetic_shows_the_true_points,
]


@pytest.mark.slow
def test_a_graded_example_class_passes_every_consumer(tmp_path):
    """Two bundled backprop examples graded by ``grader batch`` (32/50 is the grade whose
    Classroom log the issue saw as 38.46/50), then every reader above."""
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    for example in ("alice_correct.ipynb", "bob_sign_flip_db1.ipynb"):
        source = ROOT / "examples" / "submissions" / "backprop" / example
        (submissions / example).write_bytes(source.read_bytes())
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["batch", str(submissions), "-a", "backprop", "--workers", "1", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    grades = roster_for(gradebook_grades(out / "gradebook.sqlite", "backprop", "latest"))
    assert [g.result.score.points for g in grades] == [50, 32]
    for check in CHECKS:
        check(grades)
    test_junit_is_read_by_junitparser(tmp_path, grades)
    test_junit_follows_the_xunit_schemas_rules(grades)
    # Last: these two skip where their consumer file is missing.
    test_junit_validates_against_jenkins_xunit_schema(tmp_path, grades)
    test_classroom_reporter_javascript_logs_the_true_points(grades)
