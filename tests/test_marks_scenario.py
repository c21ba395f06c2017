"""Issue 9's scenario end to end, through the real command line and real kernels.

A toy course whose rubric has a viva and a write-up (marked by a person, 5 points each):
grade a class with ``grader batch``, enter marks from the CSV template, export to Canvas
(totals include the marks; a student with a mark missing gets no grade, not a zero),
regrade (the marks stay), change one notebook and grade again (its marks are flagged for
review), and a CSV with bad rows (nothing from it is entered).
"""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from test_marks import TOY, manual_course

pytestmark = pytest.mark.slow

ROSTER = "Student,ID,SIS User ID,SIS Login ID,Section\n" + "".join(
    f"Student {n},10{n},S{n},s0{n},A\n" for n in range(1, 5)
)
#: (student, criterion) -> (points, comment); s03's write-up is not marked.
MARKS = {
    ("s01", "viva"): ("4", "Clear on the law of large numbers"),
    ("s01", "writeup"): ("5", ""),
    ("s02", "viva"): ("5", ""),
    ("s02", "writeup"): ("3", "Plot not discussed"),
    ("s03", "viva"): ("2", ""),
    ("s04", "viva"): ("0", "Absent"),
    ("s04", "writeup"): ("3", ""),
}


def grader(cwd: Path, *args: object, code: int = 0) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "grader", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
    assert done.returncode == code, done.stdout + done.stderr
    return done


def make_class(folder: Path) -> None:
    """s01-s03 hand in the toy solution; s04's scale() is wrong (3 of the 10 test points)."""
    folder.mkdir()
    for n in range(1, 5):
        nb = nbformat.read(TOY / "solutions" / "toy.ipynb", as_version=4)
        if n == 4:
            nb.cells.append(nbformat.v4.new_code_cell("def scale(x, k):\n    return x"))
        nbformat.write(nb, folder / f"s0{n}.ipynb")


def canvas(tmp_path: Path, *more: str) -> tuple[dict[str, str], str]:
    done = grader(
        tmp_path, "export", "-a", "toy", "--format", "canvas", "--roster", "roster.csv",
        "--out", "out", "-o", "canvas.csv", *more,
    )  # fmt: skip
    rows = list(csv.reader((tmp_path / "canvas.csv").open(encoding="utf-8")))
    assert rows[1][0] == "Points Possible" and rows[1][5] == "20"
    return {row[3]: row[5] for row in rows[2:]}, done.stderr


def stored_marks(tmp_path: Path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "out" / "gradebook.sqlite") as db:
        return db.execute("SELECT * FROM marks ORDER BY student, criterion").fetchall()


def test_viva_and_write_up_marks_through_grading_export_and_regrading(tmp_path):
    course = manual_course(tmp_path)
    make_class(tmp_path / "subs")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    batch = ("batch", "subs", "-a", "toy", "--course", course, "-o", "out", "--workers", "2")
    assert "4 to grade" in grader(tmp_path, *batch).stderr
    env_course = ("--course", course, "--out", "out")

    # -- the template, filled in, entered ------------------------------------------------
    grader(tmp_path, "mark", "toy", "--template", "-o", "marks.csv", *env_course)
    rows = list(csv.DictReader((tmp_path / "marks.csv").open(encoding="utf-8")))
    assert len(rows) == 8 and all(row["points"] == "" for row in rows)
    assert rows[0]["levels"].startswith("0: Could not explain the code.")
    for row in rows:
        row["points"], row["comment"] = MARKS.get((row["student"], row["criterion"]), ("", ""))
    with (tmp_path / "filled.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    entered = grader(tmp_path, "mark", "--from", "filled.csv", *env_course)  # toy: from the file
    assert "7 mark(s) for 4 student(s) entered" in entered.stdout

    # -- Canvas: the totals include the marks; s03's missing mark is no zero -------------
    expected = {"s01": "19", "s02": "18", "s03": "", "s04": "10"}
    grades, notes = canvas(tmp_path)
    assert grades == expected
    assert "marks nobody has given yet" in notes and "s03" in notes
    partial, _ = canvas(tmp_path, "--pending", "partial")
    assert partial["s03"] == "12"  # 10 from the tests + the viva; the write-up still to come
    student_report = (tmp_path / "out" / "s01" / "report.html").read_text()
    assert "Clear on the law of large numbers" in student_report and "19 / 20" in student_report
    assert "Plot not discussed" not in (tmp_path / "out" / "s02" / "report.html").read_text()
    assert "Plot not discussed" in (tmp_path / "out" / "s02" / "report.instructor.html").read_text()
    before = stored_marks(tmp_path)
    assert len(before) == 7

    # -- regrade the batch: every mark is still there, and in the reports ---------------
    assert "4 to grade" in grader(tmp_path, *batch, "--regrade").stderr
    assert stored_marks(tmp_path) == before
    assert canvas(tmp_path)[0] == expected
    student_report = (tmp_path / "out" / "s01" / "report.html").read_text()
    assert "Clear on the law of large numbers" in student_report and "19 / 20" in student_report

    # -- s02 hands in a changed notebook: its marks are flagged for review ---------------
    changed = nbformat.read(tmp_path / "subs" / "s02.ipynb", as_version=4)
    changed.cells.append(nbformat.v4.new_code_cell("# a change after the viva"))
    nbformat.write(changed, tmp_path / "subs" / "s02.ipynb")
    assert "1 to grade, 3 already" in grader(tmp_path, *batch).stderr
    grades, notes = canvas(tmp_path)
    assert grades == expected, "the marks still count"
    assert "marks given for an earlier notebook" in notes and "s02" in notes
    plain = grader(tmp_path, "export", "-a", "toy", "--format", "csv", "--out", "out", "-o", "-")
    review = {
        row["student"]: row["marks_to_review"] for row in csv.DictReader(plain.stdout.splitlines())
    }
    assert review == {"s01": "", "s02": "viva writeup", "s03": "", "s04": ""}
    assert "Marks to review" in (tmp_path / "out" / "summary.html").read_text()
    assert "For review" in (tmp_path / "out" / "s02" / "report.instructor.html").read_text()
    assert "5/5 to review" in grader(tmp_path, "mark", "toy", "s02", *env_course).stdout
    grader(tmp_path, "mark", "toy", "s02", "--confirm", *env_course)
    assert "to review" not in grader(tmp_path, "mark", "toy", "s02", *env_course).stdout

    # -- a file with bad rows: each named with its row, nothing entered -----------------
    before = stored_marks(tmp_path)
    (tmp_path / "bad.csv").write_text(
        "student,criterion,points,comment\n"
        "s03,writeup,4,fine\n"  # a good row: not entered either
        "s09,viva,3,\n"  # unknown student
        "s01,viva,7,\n"  # above the maximum
        "s01,oral,2,\n",  # unknown criterion
        encoding="utf-8",
    )
    failed = grader(tmp_path, "mark", "toy", "--from", "bad.csv", *env_course, code=2)
    assert "bad.csv, row 3: unknown student 's09'" in failed.stderr
    assert "bad.csv, row 4: points 7 are above the maximum of 'viva', 5" in failed.stderr
    assert "bad.csv, row 5: unknown criterion 'oral'" in failed.stderr
    assert "row 2" not in failed.stderr and "nothing from the file was applied" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert stored_marks(tmp_path) == before
    assert canvas(tmp_path)[0]["s03"] == ""


def test_a_self_check_leaves_out_what_a_person_marks(tmp_path):
    course = manual_course(tmp_path)
    done = grader(
        tmp_path, "check", TOY / "solutions" / "toy.ipynb", "-a", "toy", "--course", course
    )
    assert "add() adds" in done.stdout and "2 / 2" in done.stdout
    assert "Viva" not in done.stdout and "pending" not in done.stdout


def test_grade_and_validate_work_with_manual_criteria(tmp_path):
    course = manual_course(tmp_path)
    solution = TOY / "solutions" / "toy.ipynb"
    done = grader(tmp_path, "grade", solution, "-a", "toy", "--course", course, "-o", "g")
    assert "10 / 20" in done.stdout and "awaiting" in done.stdout
    grader(tmp_path, "validate", "toy", "--course", course)
