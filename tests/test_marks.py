"""Marks a person gives: manual criteria in the rubric, marks on results, the gradebook's
tables and the CSV file of marks. No kernels: results are built from the rubric.

The helpers here (a toy course with a viva and a write-up, results made from its rubric)
are shared with test_marks_cli.py and test_marks_scenario.py.
"""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
from pathlib import Path

import pytest

from grader.batch.gradebook import Gradebook
from grader.errors import ConfigError
from grader.marks import (
    Mark,
    MarkError,
    MarksFileError,
    apply_marks,
    check_marks_file,
    read_marks_file,
    template_csv,
)
from grader.report import samples
from grader.results import (
    GradingResult,
    Submission,
    TestOutcome,
    Timings,
)
from grader.rubric import Rubric, load_rubric
from grader.scoring import score_criterion, total_score

TOY = Path(__file__).parent / "fixtures" / "toy_course"
TOY_TESTS = TOY / "assignments" / "toy" / "tests"

#: The toy rubric out of 20: 10 points of tests, a viva and a write-up (hidden) of 5 each.
MANUAL_RUBRIC = """\
assignment: toy
total: 20
criteria:
  - id: add
    name: add() adds
    points: 2
    tests: [public/test_basics.py::test_add]
    feedback: {pass: "add works.", fail: "add(a, b) must return a + b."}
  - id: scale
    name: scale() multiplies
    points: 3
    tests: [public/test_basics.py::test_scale_shape, hidden/test_values.py::test_scale_values]
    feedback: {pass: "scale works.", fail: "scale(x, k) must return x * k with x's shape."}
  - id: estimate
    name: Sample mean
    points: 4
    tests: [hidden/test_values.py::test_mean_estimate]
    feedback: {pass: "Good estimate.", fail: "The estimate is off."}
  - id: params
    name: Grading parameters
    points: 1
    tests: [hidden/test_values.py::test_n_injected]
    student_code: false
    feedback: {pass: "N injected.", fail: "N was not injected."}
  - id: viva
    name: Viva-voce
    points: 5
    manual: true
    levels:
      - {points: 5, text: "Also answered the follow-up questions."}
      - {points: 0, text: "Could not explain the code."}
      - {points: 2, text: "Explained what the code does, not why."}
      - {points: 4, text: "Explained the code and the statistics behind it."}
  - id: writeup
    name: Write-up
    points: 5
    manual: true
    visibility: hidden
    levels:
      - {points: 0, text: "Missing."}
      - {points: 3, text: "Aim, method and result, briefly."}
      - {points: 5, text: "Complete, with the plot discussed."}
"""


def manual_course(root: Path) -> Path:
    """A copy of the toy course whose rubric has the viva and the write-up."""
    course = root / "course"
    shutil.copytree(TOY, course)
    (course / "rubrics" / "toy.yaml").write_text(MANUAL_RUBRIC, encoding="utf-8")
    return course


def manual_rubric(tmp_path: Path) -> Rubric:
    (tmp_path / "toy.yaml").write_text(MANUAL_RUBRIC, encoding="utf-8")
    return load_rubric(tmp_path / "toy.yaml", TOY_TESTS)


def sha_of(student: str, version: int = 0) -> str:
    return f"{student}{version}".encode().hex().ljust(64, "0")[:64]


def result_for(rubric: Rubric, student: str, failing=(), version: int = 0) -> GradingResult:
    """The machine's result of a notebook that fails the tests of ``failing`` criteria."""
    outcomes = [
        TestOutcome(
            name=t.partition("::")[2],
            file=t.partition("::")[0],
            outcome="failed" if c.id in failing else "passed",
            message="wrong" if c.id in failing else "",
        )
        for c in rubric.criteria
        for t in c.tests
    ]
    criteria = [
        score_criterion(c, outcomes, gpu_available=False, default_policy="exclude", tier=None)
        for c in rubric.criteria
    ]
    return GradingResult(
        assignment=rubric.assignment,
        assignment_title="Toy",
        submission=Submission(
            path=f"/subs/{student}.ipynb",
            name=f"{student}.ipynb",
            sha256=sha_of(student, version),
            size_bytes=1,
        ),
        graded_at=f"2025-03-0{version + 1}T10:00:00+00:00",
        score=total_score(criteria),
        criteria=criteria,
        environment=samples.environment(),
        timings=Timings(total_s=1.0, execute_s=0.5, tests_s=0.5),
    )


def record(book: Gradebook, result: GradingResult, student: str, folder: Path) -> None:
    book.record(student, result, folder / student / "results.json", result.model_dump_json())


def mark(student: str, criterion: str, points: float, version: int = 0, **kw) -> Mark:
    fields = {"comment": "", "by": "drsmith", "at": "2025-03-05T09:00:00+00:00"}
    fields.update(kw)
    return Mark("toy", student, criterion, points, sha256=sha_of(student, version), **fields)


# -- the rubric ---------------------------------------------------------------------


def test_manual_criteria_load_and_add_up_to_the_total(tmp_path):
    rubric = manual_rubric(tmp_path)
    assert rubric.max_points == 20 and [c.id for c in rubric.manual_criteria] == [
        "viva",
        "writeup",
    ]
    viva = rubric.criterion("viva")
    assert viva.tests == [] and viva.student_code is False  # validate cannot expect a fail
    assert viva.level_for(4.5).text.startswith("Explained the code")
    assert viva.level_for(1).text == "Could not explain the code."


@pytest.mark.parametrize(
    "old, new",
    [
        (
            "    manual: true\n    levels:\n      - {points: 5",
            "    manual: true\n    tests: [x]\n    levels:\n      - {points: 5",
        ),
        ('{points: 5, text: "Also', '{points: 6, text: "Also'),
        ("{points: 2, text:", "{points: 4, text:"),
        ("    tests: [hidden/test_values.py::test_n_injected]\n", ""),
        ("    student_code: false\n", "    student_code: false\n    levels: []\n"),
        ("    visibility: hidden\n", "    visibility: hidden\n    student_code: true\n"),
    ],
    ids=["tests", "level-above-max", "same-level", "no-tests", "levels-auto", "student-code"],
)
def test_inconsistent_manual_criteria_are_errors(tmp_path, old, new):
    assert MANUAL_RUBRIC.count(old) == 1
    (tmp_path / "toy.yaml").write_text(MANUAL_RUBRIC.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="toy.yaml: criteria"):
        load_rubric(tmp_path / "toy.yaml", TOY_TESTS)


def test_grading_leaves_manual_criteria_pending_never_zero(tmp_path):
    result = result_for(manual_rubric(tmp_path), "s1")
    viva = next(c for c in result.criteria if c.id == "viva")
    assert (viva.status, viva.pending, viva.manual, viva.counts_toward_total) == (
        "pending",
        True,
        True,
        True,
    )
    assert [lv.points for lv in viva.levels] == [0, 2, 4, 5]  # sorted for the reports
    score = result.score
    assert (score.points, score.max_points) == (10, 20)
    assert (score.pending_points, score.pending_manual_points) == (10, 10)


# -- marks on a result -----------------------------------------------------------------


def test_a_mark_fills_a_manual_criterion_and_the_score(tmp_path):
    result = result_for(manual_rubric(tmp_path), "s1")
    marked = apply_marks(result, [mark("s1", "viva", 4, comment="Good")])
    viva = next(c for c in marked.criteria if c.id == "viva")
    assert (viva.status, viva.points, viva.pending) == ("partial", 4, False)
    assert viva.feedback == "Explained the code and the statistics behind it."
    assert viva.mark.comment == "Good" and viva.mark.by == "drsmith" and not viva.mark.review
    assert (marked.score.points, marked.score.max_points) == (14, 20)
    assert (marked.score.pending_points, marked.score.pending_manual_points) == (5, 5)
    assert [c.id for c in marked.pending_manual] == ["writeup"]
    assert apply_marks(result, []) is result  # nothing to add: the machine's result as is
    zero = apply_marks(result, [mark("s1", "writeup", 0)])
    assert next(c for c in zero.criteria if c.id == "writeup").status == "failed"
    assert zero.score.points == 10 and zero.score.pending_manual_points == 5


def test_an_override_keeps_the_machines_verdict_beside_it(tmp_path):
    result = result_for(manual_rubric(tmp_path), "s1", failing={"estimate"})
    assert result.score.points == 6
    marked = apply_marks(result, [mark("s1", "estimate", 3, comment="off by one only")])
    estimate = next(c for c in marked.criteria if c.id == "estimate")
    assert (estimate.status, estimate.points) == ("partial", 3)
    assert estimate.machine.status == "failed" and estimate.machine.points == 0
    assert estimate.machine.detail == "wrong" and estimate.feedback == "The estimate is off."
    assert marked.score.points == 9


def test_a_mark_for_another_notebook_counts_but_is_for_review(tmp_path):
    rubric = manual_rubric(tmp_path)
    changed = result_for(rubric, "s1", version=1)
    marked = apply_marks(changed, [mark("s1", "viva", 5, version=0)])
    assert marked.score.points == 15 and [c.id for c in marked.marks_for_review] == ["viva"]
    # a maximum lowered since: the mark is capped, and asks for a look
    capped = apply_marks(result_for(rubric, "s1"), [mark("s1", "viva", 9)])
    viva = next(c for c in capped.criteria if c.id == "viva")
    assert viva.points == 5 and viva.mark.review


# -- the gradebook ----------------------------------------------------------------------


def test_marks_survive_a_regrade_and_every_change_is_logged(tmp_path):
    rubric = manual_rubric(tmp_path)
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        record(book, result_for(rubric, "s1"), "s1", tmp_path)
        book.set_marks([mark("s1", "viva", 4), mark("s1", "writeup", 3)], source="test")
        book.set_marks([mark("s1", "viva", 5, comment="after all")], source="again")
        record(book, result_for(rubric, "s1"), "s1", tmp_path)  # --regrade: same notebook
        [(attempt, result)] = book.final_results("toy")
        assert result.score.points == 18 and not result.marks_for_review
        assert [(m.criterion, m.points) for m in book.marks("toy")] == [
            ("viva", 5),
            ("writeup", 3),
        ]
        record(book, result_for(rubric, "s1", version=1), "s1", tmp_path)  # changed
        [(attempt, result)] = book.final_results("toy")
        assert attempt.sha256 == sha_of("s1", 1) and result.score.points == 18
        assert {c.id for c in result.marks_for_review} == {"viva", "writeup"}
        kept = book.confirm_marks("toy", "s1", ["viva"], sha_of("s1", 1), "ta", "now")
        assert [m.criterion for m in kept] == ["viva"]
        [(_, result)] = book.final_results("toy")
        assert [c.id for c in result.marks_for_review] == ["writeup"]
        assert book.clear_mark("toy", "s1", "writeup", "ta", "later")
        assert not book.clear_mark("toy", "s1", "writeup", "ta", "later")
        [(_, result)] = book.final_results("toy")
        assert result.score.points == 15 and result.score.pending_manual_points == 5
        log = book.marks_log("toy", "s1")
        assert [(e["action"], e["criterion"]) for e in log] == [
            ("set", "viva"),
            ("set", "writeup"),
            ("set", "viva"),
            ("confirm", "viva"),
            ("clear", "writeup"),
        ]
        assert log[2]["source"] == "again" and log[2]["comment"] == "after all"


def test_a_gradebook_from_before_marks_gets_their_tables(tmp_path):
    path = tmp_path / "old.sqlite"
    result = samples.full_marks()
    with sqlite3.connect(path) as db:  # the schema as it was, with one attempt
        db.executescript(
            "CREATE TABLE attempts (id INTEGER PRIMARY KEY, assignment TEXT NOT NULL, student "
            "TEXT NOT NULL, sha256 TEXT NOT NULL, path TEXT NOT NULL, graded_at TEXT NOT NULL,"
            " points REAL NOT NULL, max_points REAL NOT NULL, pending_points REAL NOT NULL,"
            " grading_error TEXT, flagged INTEGER NOT NULL, seconds REAL NOT NULL, results_path"
            " TEXT NOT NULL, results_json TEXT NOT NULL, UNIQUE (assignment, student, sha256));"
        )
        text = result.model_dump_json().replace('"schema_version":"1.1"', '"schema_version":"1.0"')
        db.execute(
            "INSERT INTO attempts VALUES (1, 'lenet5', 'ann', ?, 'p', 't', 10, 10, 0, NULL, 0, 1,"
            " 'r', ?)",
            (result.submission.sha256, text),
        )
    with Gradebook(path) as book:
        assert book.marks("lenet5") == []
        override = Mark("lenet5", "ann", "shapes", 1, "", "me", "t", result.submission.sha256)
        book.set_marks([override], "test")
        [(_, marked)] = book.final_results("lenet5")
        assert marked.schema_version == "1.0" and marked.score.points == 8
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1


# -- the CSV file -----------------------------------------------------------------------


def test_template_has_a_row_per_student_and_manual_criterion(tmp_path):
    rubric = manual_rubric(tmp_path)
    text = template_csv(rubric, ["s1", "=s2"], {("s1", "viva"): "4 by drsmith"})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["student"], r["criterion"]) for r in rows] == [
        ("s1", "viva"),
        ("s1", "writeup"),
        ("'=s2", "viva"),  # never run as a formula by a spreadsheet
        ("'=s2", "writeup"),
    ]
    assert all(r["points"] == "" and r["comment"] == "" for r in rows)
    assert rows[0]["levels"].startswith("0: Could not explain the code.; 2: ")
    assert rows[0]["current"] == "4 by drsmith" and rows[0]["max_points"] == "5"


def marks_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "marks.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_bad_row_is_reported_with_its_number(tmp_path):
    rubric = manual_rubric(tmp_path)
    graded = {"s1": result_for(rubric, "s1"), "s2": result_for(rubric, "s2")}
    path = marks_file(
        tmp_path,
        "student,criterion,points,comment\n"
        "s1,viva,4,fine\n"  # 2: good
        "zed,viva,4,\n"  # 3: unknown student
        "s1,writeup,6,\n"  # 4: above the maximum
        "s2,vivaa,1,\n"  # 5: unknown criterion
        "s2,viva,four,\n"  # 6: not a number
        ",,,\n"  # 7: blank, skipped
        "s2,writeup,,a comment alone\n"  # 8: no points
        "s1,viva,3,\n"  # 9: twice
        "s2,viva,-1,\n"  # 10: negative
        "s2,viva,nan,\n"  # 11: not a number either
        "s2,writeup,,\n",  # 12: left blank, skipped
    )
    with pytest.raises(MarksFileError) as caught:
        check_marks_file(read_marks_file(path), rubric, graded)
    problems = caught.value.problems
    assert [p.split(": ", 1)[0] for p in problems] == [
        f"{path}, row {n}" for n in (3, 4, 5, 6, 8, 9, 10, 11)
    ]
    text = "\n".join(problems)
    for words in (
        "unknown student 'zed'",
        "above the maximum of 'writeup', 5",
        "unknown criterion 'vivaa'",
        "'four' are not a number",
        "a comment without points",
        "also on row 2",
        "negative",
    ):
        assert words in text
    assert "8 bad rows, nothing from the file was applied" in str(caught.value)


def test_a_good_file_gives_its_rows_and_overrides_any_criterion(tmp_path):
    rubric = manual_rubric(tmp_path)
    graded = {"s1": result_for(rubric, "s1")}
    path = marks_file(
        tmp_path,
        "\ufeffassignment,Student,criterion,points,comment\n"
        "toy,s1,viva,4.5,fine\ntoy,s1,estimate, 2 ,override\n",
    )
    rows = check_marks_file(read_marks_file(path), rubric, graded)
    assert [(r.row, r.criterion, r.points, r.comment) for r in rows] == [
        (2, "viva", 4.5, "fine"),
        (3, "estimate", 2.0, "override"),
    ]
    other = marks_file(tmp_path, "assignment,student,criterion,points\nlenet5,s1,viva,4\n")
    with pytest.raises(MarksFileError, match="1 bad row,"):
        check_marks_file(read_marks_file(other), rubric, graded)


def test_a_file_without_the_columns_is_one_clear_error(tmp_path):
    with pytest.raises(MarkError, match="no points column"):
        read_marks_file(marks_file(tmp_path, "student,criterion,mark\ns1,viva,4\n"))
    with pytest.raises(MarkError, match="empty"):
        read_marks_file(marks_file(tmp_path, ""))
