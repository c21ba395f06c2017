"""``grader export`` with marks a person gave and points still pending, the plain CSV,
choosing an attempt, and input errors; no kernels. Gradebooks: tests/export_books.py.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from export_books import (
    CANVAS_ROSTER,
    book,
    class_book,
    crashed,
    export,
    fails,
    graded,
    refused,
    roster,
    run,
)

from grader.report import samples
from grader.results import Score
from grader.scoring import total_score

# -- marks a person gave, and pending points -----------------------------------


def marked_book(tmp_path: Path) -> Path:
    """alice: marks with comments, an override, one mark to review and one not given yet;
    dan: everything marked."""
    marked = samples.marked()
    complete = marked.model_copy(
        update={"criteria": [c for c in marked.criteria if c.id != "record"]}
    )
    complete = complete.model_copy(update={"score": total_score(complete.criteria)})
    return book(tmp_path, ("alice", graded("alice", marked)), ("dan", graded("dan", complete)))


def test_pending_marks_leave_the_grade_out_or_post_the_points_so_far(tmp_path):
    path = marked_book(tmp_path)
    canvas_roster = roster(tmp_path, CANVAS_ROSTER)
    result = export("--format", "canvas", "--gradebook", path, "--roster", canvas_roster, "-o", "-")
    assert result.exit_code == 0, result.output
    scores = {r[3]: r[5] for r in csv.reader(io.StringIO(result.stdout))}
    assert scores["alice"] == "" and scores["dan"] == "19"  # pending: no grade, not 14
    assert "1 student(s) have marks nobody has given yet" in result.stderr
    assert "alice" in result.stderr and "to review" in result.stderr
    partial = run("canvas", path, "--roster", canvas_roster, "--pending", "partial", "-o", "-")
    assert {r[3]: r[5] for r in csv.reader(io.StringIO(partial))}["alice"] == "19"
    moodle = run("moodle", path, "-o", "-")
    alice = next(r for r in csv.DictReader(io.StringIO(moodle)) if r["student"] == "alice")
    assert alice["LeNet-5 on CIFAR-10"] == "-"
    assert "5 point(s) await the instructor's mark (Lab record)" in alice["Feedback"]
    assert samples.VIVA_COMMENT in alice["Feedback"]
    assert samples.WRITEUP_COMMENT not in moodle  # a hidden criterion's comment


def test_the_plain_csv_has_the_marks_their_comments_and_what_waits(tmp_path):
    rows = list(csv.DictReader(io.StringIO(run("csv", marked_book(tmp_path), "-o", "-"))))
    alice, dan = rows
    assert (alice["points"], alice["percent"], alice["status"]) == ("", "", "pending_marks")
    assert (alice["viva"], alice["record"], alice["pending_marks"]) == ("4", "", "record")
    assert alice["viva_comment"] == samples.VIVA_COMMENT
    assert alice["writeup_comment"] == samples.WRITEUP_COMMENT  # the instructor's own table
    assert alice["shapes_comment"] == samples.OVERRIDE_COMMENT
    assert alice["marks_to_review"] == "writeup"
    assert (dan["points"], dan["status"]) == ("19", "graded")


def test_per_criterion_formats_show_pending_marks_as_pending(tmp_path):
    path = marked_book(tmp_path)
    run("gradescope", path, "-o", tmp_path / "gs")
    doc = json.loads((tmp_path / "gs" / "alice" / "results.json").read_text())
    by_name = {t["name"]: t for t in doc["tests"]}
    record = by_name["Lab record (pending)"]
    assert "status" not in record and record["score"] == 0
    assert by_name["Viva-voce"]["status"] == "failed" and by_name["Viva-voce"]["score"] == 4
    assert samples.VIVA_COMMENT in by_name["Viva-voce"]["output"]
    assert samples.WRITEUP_COMMENT not in json.dumps(doc)
    assert "Instructor's comment" in by_name["Layer output shapes"]["output"]
    assert doc["extra_data"]["dlgrader"]["pending_manual_points"] == 5
    assert "await the instructor's mark" in doc["output"]
    junit = ET.fromstring(run("junit", path, "-o", "-").encode())
    cases = {c.get("name"): c for c in junit.find("testsuite").findall("testcase")}
    assert cases["Lab record"].find("skipped").get("type") == "awaiting_mark"
    message = refused("gradescope", path, "--pending", "omit", "-o", tmp_path / "x")
    assert "cannot leave the grade out" in message


# -- plain CSV, choosing attempts, input errors ------------------------------


def test_plain_csv_and_latest_or_best_attempt(tmp_path):
    first = graded("ann", samples.full_marks())
    second = graded(
        "ann", score=Score(points=4, max_points=10), graded_at="2025-03-02T10:00:00+00:00"
    )
    second = second.model_copy(
        update={"submission": second.submission.model_copy(update={"sha256": "f" * 64})}
    )
    path = book(tmp_path, ("ann", first), ("ann", second), ("=cmd|x", crashed("=cmd|x")))
    rows = list(csv.reader(io.StringIO(run("csv", path, "-o", "-"))))
    assert rows[0][:5] == ["student", "points", "max_points", "percent", "status"]
    assert rows[1][0] == "'=cmd|x" and rows[1][4] == "error"  # never run as a formula
    assert rows[2][:5] == ["ann", "4", "10", "40.0", "graded"]  # latest
    best = list(csv.reader(io.StringIO(run("csv", path, "--choose", "best", "-o", "-"))))
    assert best[2][:3] == ["ann", "10", "10"]
    assert best[2][best[0].index("param_count")] == "4"


def test_input_errors_are_one_line_with_exit_code_two(tmp_path):
    assert "no gradebook at" in refused("csv", tmp_path / "none.sqlite")
    assert not (tmp_path / "none.sqlite").exists()  # looking did not create one
    (tmp_path / "text.sqlite").write_text("not a database")
    assert "not a readable gradebook" in refused("csv", tmp_path / "text.sqlite")
    path = class_book(tmp_path)
    assert "no attempts for 'lab9'" in refused("csv", path, "-a", "lab9")
    partial = roster(tmp_path, "id\nalice\nbob\n")
    assert "not in the roster" in (message := refused("csv", path, "--roster", partial))
    assert "carol" in message
    dup = roster(tmp_path, "id\nalice\nbob\ncarol\nbob\n")
    assert "'bob' appears twice" in refused("csv", path, "--roster", dup)
    assert "one student's results" in refused("gradescope", path, "-o", tmp_path / "one.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"assignment": 3}')
    assert "not a dlgrader results.json" in fails("--format", "gradescope", "--results", bad)
    odd = book(tmp_path / "odd", ("../up", graded("x")))
    assert "cannot name a folder" in refused("gradescope", odd, "-o", tmp_path)
