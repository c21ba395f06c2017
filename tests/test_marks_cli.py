"""``grader mark`` on a gradebook of results made from the rubric (no kernels): one mark,
an override, the CSV template and file, confirming and clearing, and bad input that
changes nothing (exit code 2)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click
from click.testing import CliRunner
from test_marks import manual_course, manual_rubric, record, result_for

from grader.batch.gradebook import Gradebook
from grader.cli import export as cli_export
from grader.cli import mark as cli_mark
from grader.errors import GraderError

GROUP = click.Group()
cli_mark.register(GROUP)
cli_export.register(GROUP)


class Class:
    """A course with a viva and a write-up, and a batch's output folder for four students."""

    def __init__(self, tmp_path: Path) -> None:
        self.course = manual_course(tmp_path)
        self.out = tmp_path / "out"
        self.gradebook = self.out / "gradebook.sqlite"
        rubric = manual_rubric(tmp_path)
        with Gradebook(self.gradebook) as book:
            for student in ("s1", "s2", "s3", "s4"):
                (self.out / student).mkdir(parents=True)
                failing = {"estimate"} if student == "s4" else set()
                record(book, result_for(rubric, student, failing), student, self.out)

    def mark(self, *args: object, code: int = 0):
        argv = ["mark", *map(str, args), "--course", str(self.course), "--out", str(self.out)]
        result = CliRunner().invoke(GROUP, argv)
        if code == 0:
            assert result.exit_code == 0, (result.output, result.exception)
        else:
            error = result.exception
            assert isinstance(error, GraderError) and error.exit_code == code, result.output
        return result

    def marks(self) -> list[tuple[str, str, float, str]]:
        with Gradebook(self.gradebook) as book:
            return [(m.student, m.criterion, m.points, m.comment) for m in book.marks("toy")]

    def totals(self) -> dict[str, tuple[float, float]]:
        with Gradebook(self.gradebook) as book:
            return {
                a.student: (r.score.points, r.score.pending_manual_points)
                for a, r in book.final_results("toy")
            }


def test_one_mark_counts_and_shows_in_the_reports_and_the_summary(tmp_path):
    course = Class(tmp_path)
    done = course.mark("toy", "s1", "viva", "4", "--comment", "Clear on the LLN", "--by", "drsmith")
    assert "s1 / viva: 4 of 5 (was pending), by drsmith" in done.stdout
    assert "s1: 14 / 20, 5 awaiting a mark" in done.stdout
    assert course.marks() == [("s1", "viva", 4.0, "Clear on the LLN")]
    assert course.totals()["s1"] == (14, 5) and course.totals()["s2"] == (10, 10)
    report = (course.out / "s1" / "report.html").read_text()
    assert "Clear on the LLN" in report and "14 / 20" in report
    assert "Explained the code and the statistics behind it." in report  # the level's text
    assert "by drsmith" in (course.out / "summary.html").read_text()
    hidden = course.mark("toy", "s1", "writeup", "3", "--comment", "No conclusion").stdout
    assert "s1: 17 / 20" in hidden
    assert "No conclusion" not in (course.out / "s1" / "report.html").read_text()  # hidden
    assert "No conclusion" in (course.out / "s1" / "report.instructor.html").read_text()


def test_an_override_keeps_the_tests_verdict_and_can_be_cleared(tmp_path):
    course = Class(tmp_path)
    assert course.totals()["s4"] == (6, 10)
    done = course.mark("toy", "s4", "estimate", "3", "--comment", "off by one", "--by", "ta")
    assert "s4 / estimate: 3 of 4 (was 0), by ta" in done.stdout
    assert course.totals()["s4"] == (9, 10)
    instructor = (course.out / "s4" / "report.instructor.html").read_text()
    assert "The tests said: failed, 0 / 4." in instructor and "off by one" in instructor
    assert "The tests said" not in (course.out / "s4" / "report.html").read_text()
    shown = course.mark("toy", "s4").stdout
    assert "3/4 (tests: 0)" in shown and "set estimate 3 by ta" in shown
    course.mark("toy", "s4", "estimate", "--clear")
    assert course.marks() == [] and course.totals()["s4"] == (6, 10)
    assert "The tests said" not in (course.out / "s4" / "report.instructor.html").read_text()
    course.mark("toy", "s4", "estimate", "--clear", code=2)  # nothing left to clear


def test_bad_single_marks_are_refused_and_change_nothing(tmp_path):
    course = Class(tmp_path)
    cases = {
        ("toy", "zed", "viva", "4"): "unknown student 'zed'",
        ("toy", "s1", "vivaa", "4"): "unknown criterion 'vivaa'",
        ("toy", "s1", "viva", "6"): "above the maximum of 'viva', 5",
        ("toy", "s1", "viva", "four"): "'four' are not a number",
        ("toy", "s1", "viva", "inf"): "are not a number",
    }
    for args, words in cases.items():
        assert words in str(course.mark(*args, code=2).exception)
    assert course.marks() == []
    missing = CliRunner().invoke(
        GROUP, ["mark", "toy", "s1", "viva", "4", "--course", str(course.course), "--out", "x"]
    )
    assert "no gradebook at x/gradebook.sqlite" in str(missing.exception)
    assert not Path("x").exists()
    usage = CliRunner().invoke(GROUP, ["mark", "toy", "s1", "viva"])
    assert usage.exit_code == 2 and "give the POINTS" in usage.output


def fill(template: Path, values: dict[tuple[str, str], tuple[str, str]], target: Path) -> Path:
    rows = list(csv.DictReader(template.open(encoding="utf-8")))
    for row in rows:
        row["points"], row["comment"] = values.get((row["student"], row["criterion"]), ("", ""))
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def test_template_then_from_file_enters_every_row_or_none(tmp_path):
    course = Class(tmp_path)
    done = course.mark("toy", "--template")
    template = course.out / "toy-marks.csv"
    assert f"{template}: 8 row(s) to fill in" in done.stderr
    rows = list(csv.DictReader(template.open()))
    assert {(r["student"], r["criterion"]) for r in rows} == {
        (s, c) for s in ("s1", "s2", "s3", "s4") for c in ("viva", "writeup")
    }
    good = {("s1", "viva"): ("5", "Excellent"), ("s2", "writeup"): ("3", "")}
    bad = {**good, ("s3", "viva"): ("7", ""), ("s4", "writeup"): ("x", "")}
    failed = course.mark("--from", fill(template, bad, tmp_path / "bad.csv"), code=2)
    assert "bad.csv, row 6: points 7 are above the maximum" in failed.stderr
    assert "bad.csv, row 9: points 'x' are not a number" in failed.stderr
    assert "2 bad rows, nothing from the file was applied" in str(failed.exception)
    assert course.marks() == []  # the good rows were not entered either
    entered = course.mark("--from", fill(template, good, tmp_path / "good.csv"))
    assert "2 mark(s) for 2 student(s) entered" in entered.stdout
    assert course.marks() == [("s1", "viva", 5.0, "Excellent"), ("s2", "writeup", 3.0, "")]
    again = list(csv.DictReader(io.StringIO(course.mark("toy", "--template", "-o", "-").stdout)))
    current = {(r["student"], r["criterion"]): r["current"] for r in again}
    assert current[("s1", "viva")].startswith("5 by ") and current[("s1", "writeup")] == ""


def test_a_changed_notebook_flags_its_marks_until_confirmed(tmp_path):
    course = Class(tmp_path)
    course.mark("toy", "s1", "viva", "4")
    course.mark("toy", "s1", "writeup", "5")
    with Gradebook(course.gradebook) as book:
        record(book, result_for(manual_rubric(tmp_path), "s1", version=1), "s1", course.out)
    assert "4/5 to review" in course.mark("toy", "s1").stdout
    summary = course.out / "summary.html"
    course.mark("toy", "s1", "viva", "--confirm")
    listing = course.mark("toy", "s1").stdout
    assert "4/5 " in listing and "4/5 to review" not in listing and "5/5 to review" in listing
    assert "Marks to review" in summary.read_text()
    course.mark("toy", "s1", "--confirm")
    assert "to review" not in course.mark("toy", "s1").stdout
    assert "Marks to review" not in summary.read_text()
    assert course.totals()["s1"] == (19, 0)


def test_export_takes_the_marks_and_never_a_silent_zero(tmp_path):
    course = Class(tmp_path)
    for student in ("s1", "s2"):
        course.mark("toy", student, "viva", "5")
        course.mark("toy", student, "writeup", "4")
    course.mark("toy", "s3", "viva", "2")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID\nA,1,,s1\nB,2,,s2\nC,3,,s3\nD,4,,s4\n",
        encoding="utf-8",
    )
    argv = ["export", "--format", "canvas", "--out", str(course.out), "--roster", str(roster)]
    done = CliRunner().invoke(GROUP, [*argv, "-o", "-"])
    assert done.exit_code == 0, done.output
    grades = {r[3]: r[-1] for r in csv.reader(io.StringIO(done.stdout))}
    assert grades == {"SIS Login ID": "Toy", "": "20", "s1": "19", "s2": "19", "s3": "", "s4": ""}
    partial = CliRunner().invoke(GROUP, [*argv, "--pending", "partial", "-o", "-"])
    grades = {r[3]: r[-1] for r in csv.reader(io.StringIO(partial.stdout))}
    assert (grades["s3"], grades["s4"]) == ("12", "6")
