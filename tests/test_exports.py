"""``grader export``: each format checked against its platform's field rules; no kernels.

Gradebooks come from tests/export_books.py; marks a person gave, the plain CSV and
input errors are in tests/test_export_marks.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from export_books import (
    CANVAS_ROSTER,
    CANVAS_TITLE,
    HIDDEN_DETAIL,
    LATER_DETAIL,
    MOODLE_ROSTER,
    book,
    class_book,
    crashed,
    export,
    graded,
    no_test_source,
    ok,
    refused,
    roster,
    run,
)

from grader.errors import GraderError
from grader.exports.classroom import GITHUB_STATUSES
from grader.exports.gradescope import VISIBILITY_VALUES
from grader.exports.prairielearn import MAX_BYTES
from grader.report import samples
from grader.results import Score

# -- Gradescope --------------------------------------------------------------


def test_gradescope_scores_add_up_and_visibility_uses_gradescopes_values(tmp_path):
    path = class_book(tmp_path)
    run("gradescope", path, "-o", tmp_path / "gs")
    for student in ("alice", "bob", "carol"):
        text = (tmp_path / "gs" / student / "results.json").read_text()
        no_test_source(text)
        doc = json.loads(text)
        tests = doc["tests"]
        assert {t["visibility"] for t in tests} <= set(VISIBILITY_VALUES)
        assert sum(t["score"] for t in tests) == pytest.approx(doc["score"])
        max_points = doc["extra_data"]["dlgrader"]["max_points"]
        assert sum(t["max_score"] for t in tests) == pytest.approx(max_points)
        assert {t.get("status", "passed") for t in tests} <= {"passed", "failed"}
        assert doc["output_format"] == doc["test_output_format"] == "text"
    bob = json.loads((tmp_path / "gs" / "bob" / "results.json").read_text())
    by_name = {t["name"]: t for t in bob["tests"]}
    hidden = by_name["Backprop gradients"]
    assert hidden["visibility"] == "visible"  # Gradescope's "hidden" is for 0-point tests
    assert hidden["output"] == "Gradients do not match finite differences."
    assert HIDDEN_DETAIL not in json.dumps(bob)
    later = by_name["Final accuracy (secret band)"]
    assert later["visibility"] == "after_due_date" and LATER_DETAIL in later["output"]
    assert "status" not in by_name["Runs on the GPU (pending)"]  # neither passed nor failed
    # Excluded from the total: not a 0/0 test, which Gradescope would show as passed.
    assert "GPU memory use" not in {t["name"].removesuffix(" (pending)") for t in tests}
    assert "Not graded, and not in the total: GPU memory use" in bob["output"]
    assert "Score:" not in bob["output"]  # Gradescope shows (or holds back) the total itself


def test_gradescope_output_is_plain_text_without_escapes(tmp_path):
    path = book(tmp_path, ("eve", graded("eve", samples.hostile())))
    doc = json.loads(run("gradescope", path, "-o", "-"))
    assert "\x1b" not in json.dumps(doc) and "\u202e" not in json.dumps(doc)
    loss = next(t for t in doc["tests"] if t["tags"] == ["loss"])
    assert "<script>" in loss["output"]  # kept as text: output_format "text" shows it verbatim


def test_gradescope_autograder_scripts(tmp_path):
    folder = tmp_path / "gs"
    ok("--format", "gradescope-autograder", "-a", "backprop", "-o", folder)
    for name in ("run_autograder", "setup.sh"):
        script = folder / name
        assert os.access(script, os.X_OK) and script.read_text().startswith("#!/usr/bin/env bash")
        assert subprocess.run(["bash", "-n", script]).returncode == 0
    assert 'ASSIGNMENT="backprop"' in (folder / "run_autograder").read_text()
    result = export("--format", "gradescope-autograder", "-a", "no_such_lab", "-o", folder)
    assert isinstance(result.exception, GraderError) and "no_such_lab" in str(result.exception)


FAKE_GRADER = """#!{python}
import os, pathlib, sys
args = sys.argv[1:]
pathlib.Path(os.environ["FAKE_LOG"]).open("a").write(" ".join(args) + "\\n")
if args[0] == "grade":
    from grader.report import samples
    out = pathlib.Path(args[args.index("--out") + 1])
    out.mkdir(parents=True)
    result = samples.mixed().model_copy(update={{"mode": "grade"}})
    (out / "results.json").write_text(result.model_dump_json())
    sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
import click
from grader.cli import export as cli_export
group = click.Group()
cli_export.register(group)
group(args)
"""


@pytest.mark.parametrize(
    "notebooks, fake_exit, expect",
    [
        ([], 0, "no .ipynb file"),
        (["lab.ipynb", "other.ipynb"], 0, "several notebooks"),
        (["lab.ipynb"], 124, "time limit"),
        (["sub/backprop_final.ipynb", "notes.ipynb"], 0, None),
        (["lab.ipynb"], 3, None),
    ],
)
def test_run_autograder_always_writes_results_json(tmp_path, notebooks, fake_exit, expect):
    ok("--format", "gradescope-autograder", "-a", "backprop", "-o", tmp_path / "gs")
    fake = tmp_path / "grader"
    fake.write_text(FAKE_GRADER.format(python=sys.executable))
    fake.chmod(0o755)
    for name in notebooks:
        (tmp_path / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "submission" / name).write_text("{}")
    (tmp_path / "course").mkdir()
    env = {
        **os.environ,
        "DLGRADER_BIN": str(fake),
        "DLGRADER_COURSE": str(tmp_path / "course"),
        "DLGRADER_SUBMISSION": str(tmp_path / "submission"),
        "DLGRADER_RESULTS": str(tmp_path / "results" / "results.json"),
        "DLGRADER_SANDBOX": "none",
        "FAKE_LOG": str(tmp_path / "log"),
        "FAKE_EXIT": str(fake_exit),
    }
    (tmp_path / "submission").mkdir(exist_ok=True)
    run = subprocess.run([tmp_path / "gs" / "run_autograder"], env=env, capture_output=True)
    assert run.returncode == 0, run.stderr
    doc = json.loads((tmp_path / "results" / "results.json").read_text())
    if expect:
        assert doc["score"] == 0 and expect in doc["output"] and doc["tests"] == []
    else:
        counted = [c for c in samples.mixed().criteria if c.counts_toward_total]
        assert len(doc["tests"]) == len(counted)  # the excluded GPU criterion is no test
        log = (tmp_path / "log").read_text()
        assert "--assignment backprop" in log and "--sandbox none" in log
        assert notebooks[0] in log.splitlines()[0]


# -- PrairieLearn ------------------------------------------------------------


def test_prairielearn_score_is_a_fraction_and_failed_grading_is_not_gradable(tmp_path):
    path = class_book(tmp_path)
    run("prairielearn", path, "-o", tmp_path / "pl")
    bob = json.loads((tmp_path / "pl" / "bob" / "results.json").read_text())
    assert bob["gradable"] is True and 0 <= bob["score"] <= 1
    assert bob["score"] == pytest.approx(6.5 / 16)
    assert all("points" in t and "max_points" in t for t in bob["tests"])
    assert HIDDEN_DETAIL not in json.dumps(bob) and LATER_DETAIL not in json.dumps(bob)
    assert bob["tests"][-1]["name"] == "Released after the due date (1 criterion)"
    assert sum(t["points"] for t in bob["tests"]) == pytest.approx(6.5)
    carol = json.loads((tmp_path / "pl" / "carol" / "results.json").read_text())
    assert carol["gradable"] is False and "no kernel" in carol["format_errors"][0]
    assert "score" not in carol
    full = json.loads((tmp_path / "pl" / "alice" / "results.json").read_text())
    assert full["score"] == 1.0
    run("prairielearn", path, "-o", tmp_path / "r", "--released")
    assert LATER_DETAIL in (tmp_path / "r" / "bob" / "results.json").read_text()


def test_prairielearn_results_are_cut_to_fit_one_megabyte(tmp_path):
    long = "x" * 30_000
    criteria = [
        samples.criterion(f"c{i}", "failed", 0, 1, feedback="short feedback", detail=long)
        for i in range(80)
    ]
    score = Score(points=0, max_points=80)
    path = book(tmp_path, ("big", graded("big", criteria=criteria, score=score)))
    text = run("prairielearn", path, "-o", "-")
    assert len(text.encode()) <= MAX_BYTES
    doc = json.loads(text)
    assert len(doc["tests"]) == 80 and doc["tests"][0]["message"].startswith("short feedback")
    assert "1 MB limit" in doc["tests"][0]["message"]
    gradescope = run("gradescope", path, "-o", "-")
    assert len(gradescope.encode()) > MAX_BYTES  # the cut is PrairieLearn's alone


# -- Canvas ------------------------------------------------------------------


def test_canvas_csv_follows_the_gradebook_importer(tmp_path):
    path = class_book(tmp_path)
    canvas_roster = roster(tmp_path, CANVAS_ROSTER)
    text = run("canvas", path, "--roster", canvas_roster, "--canvas-id", "4567", "-o", "-")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert "Student" in rows[0][0] and "ID" in rows[0][1] and "Section" in rows[0][4]
    assert CANVAS_TITLE.match(rows[0][5]).groups() == ("LeNet-5 on CIFAR-10", "4567")
    assert "Points Possible" in rows[1][0] and rows[1][5] == "16"
    by_login = {row[3]: row for row in rows[2:]}
    assert set(by_login) == {"alice", "bob", "carol"}  # dan has no attempt: left out
    assert by_login["alice"][:3] == ["Doe, Alice", "101", "S1"] and by_login["alice"][5] == "10"
    assert by_login["bob"][5] == ""  # 2 points wait for a GPU: no grade until they are in
    assert by_login["carol"][5] == ""  # grading failed: no score rather than a zero
    assert all(len(row) == 6 for row in rows)
    partial = run("canvas", path, "--roster", canvas_roster, "--pending", "partial", "-o", "-")
    assert {r[3]: r[5] for r in csv.reader(io.StringIO(partial))}["bob"] == "6.5"


def test_canvas_needs_a_roster_with_canvas_ids(tmp_path):
    path = class_book(tmp_path)
    assert "needs --roster" in refused("canvas", path)
    plain = roster(tmp_path, "id,name\nalice,A\nbob,B\ncarol,C\n")
    message = refused("canvas", path, "--roster", plain)
    assert "ID, SIS User ID or SIS Login ID" in message and "found: id, name" in message
    twice = roster(tmp_path, CANVAS_ROSTER.replace("S3,carol", "S3,bob"))
    message = refused("canvas", path, "--roster", twice)
    assert "'bob' matches 2 roster rows" in message
    bad_id = refused(
        "canvas", path, "--roster", roster(tmp_path, CANVAS_ROSTER), "--canvas-id", "lab3"
    )
    assert "is a number" in bad_id
    title = refused(
        "canvas", path, "--roster", roster(tmp_path, CANVAS_ROSTER), "--title", "Lab (3)"
    )
    assert "--canvas-id" in title


# -- Moodle ------------------------------------------------------------------


def test_moodle_csv_has_identifier_grade_and_feedback_columns(tmp_path):
    path = class_book(tmp_path)
    text = run("moodle", path, "--roster", roster(tmp_path, MOODLE_ROSTER), "-o", "-")
    no_test_source(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["email", "LeNet-5 on CIFAR-10", "Feedback"]
    by_email = {row["email"]: row for row in rows}
    assert by_email["a@x.edu"]["LeNet-5 on CIFAR-10"] == "10"
    assert by_email["c@x.edu"]["LeNet-5 on CIFAR-10"] == "-"  # Moodle's "no grade"
    feedback = by_email["b@x.edu"]["Feedback"]
    assert "Loss decreases: 1.5/3" in feedback and "loss fell by 12%" in feedback
    assert "Gradients do not match" in feedback and HIDDEN_DETAIL not in feedback
    assert LATER_DETAIL not in feedback and "\n" not in feedback
    without = list(csv.reader(io.StringIO(run("moodle", path, "-o", "-"))))
    assert without[0] == ["student", "LeNet-5 on CIFAR-10", "Feedback"]


def test_moodle_roster_errors(tmp_path):
    path = class_book(tmp_path)
    no_email = roster(tmp_path, "id,name\nalice,A\nbob,B\ncarol,C\n")
    message = refused("moodle", path, "--roster", no_email)
    assert "email, idnumber or username" in message
    same = roster(tmp_path, MOODLE_ROSTER.replace("c@x.edu", "b@x.edu"))
    assert "same email 'b@x.edu'" in refused("moodle", path, "--roster", same)
    both = roster(tmp_path, "id,email,idnumber\nalice,a@x,1\nbob,b@x,2\ncarol,,3\n")
    rows = list(csv.reader(io.StringIO(run("moodle", path, "--roster", both, "-o", "-"))))
    assert rows[0][0] == "idnumber" and [r[0] for r in rows[1:]] == ["1", "2", "3"]
    blank = roster(tmp_path, MOODLE_ROSTER.replace("c@x.edu", ""))
    assert "'carol' has no email" in refused("moodle", path, "--roster", blank)


# -- GitHub Classroom and JUnit ----------------------------------------------


def test_github_classroom_has_a_v3_runner_per_criterion(tmp_path):
    results = tmp_path / "graded" / "results.json"
    results.parent.mkdir()
    results.write_text(graded("bob").model_dump_json())
    ok("--format", "github-classroom", "--results", results, "-o", tmp_path / "result.json")
    doc = json.loads((tmp_path / "result.json").read_text())
    runners = doc["results"]
    assert doc["runners"].split(",") == list(runners)
    for runner in runners.values():
        assert runner["version"] == 3 and runner["status"] in GITHUB_STATUSES
        assert len(runner["tests"]) == 1 and runner["tests"][0]["test_code"] == ""
        assert len(runner["tests"][0]["message"]) <= 500
    assert sum(r["max_score"] for r in runners.values()) == 16
    assert sum(t["score"] for r in runners.values() for t in r["tests"]) == pytest.approx(6.5)
    # Partial credit (1.5 of 3) is two runners, so each one is all-or-nothing.
    assert (runners["loss"]["max_score"], runners["loss"]["status"]) == (1.5, "pass")
    assert (runners["loss_missed"]["max_score"], runners["loss_missed"]["status"]) == (1.5, "fail")
    assert runners["gpu_speed"]["tests"][0]["status"] == "error"  # pending, not failed
    assert "gpu_mem" not in runners  # excluded from the total
    no_test_source(json.dumps(doc))
    path = book(tmp_path, ("alice", graded("alice", samples.full_marks())), ("x", crashed("x")))
    run("github-classroom", path, "-o", tmp_path / "gh")
    alice = json.loads((tmp_path / "gh" / "alice" / "results.json").read_text())
    assert {r["status"] for r in alice["results"].values()} == {"pass"}
    crashed_doc = json.loads((tmp_path / "gh" / "x" / "results.json").read_text())
    assert list(crashed_doc["results"]) == ["grading"]
    assert crashed_doc["results"]["grading"]["status"] == "error"


def test_junit_xml_has_a_suite_per_student_and_a_case_per_criterion(tmp_path):
    path = book(
        tmp_path,
        ("alice", graded("alice", samples.full_marks())),
        ("bob", graded("bob")),
        ("eve", graded("eve", samples.hostile())),
    )
    text = run("junit", path, "-o", "-")
    no_test_source(text)
    root = ET.fromstring(text.encode())
    assert root.tag == "testsuites"
    assert set(root.attrib) <= {"name", "time", "tests", "failures", "errors"}  # junit-10.xsd
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"alice", "bob", "eve"}
    bob = suites["bob"]
    props = {p.get("name"): p.get("value") for p in bob.find("properties")}
    assert props["score"] == "6.5" and props["max_score"] == "16"
    cases = bob.findall("testcase")
    assert len(cases) == int(bob.get("tests")) == 8  # 9 criteria, after-due-date one folded
    failures = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert set(failures) == {"Loss decreases", "Backprop gradients"}
    assert failures["Loss decreases"].get("message") == "The loss falls, but slowly."
    assert HIDDEN_DETAIL not in failures["Backprop gradients"].text
    assert int(bob.get("failures")) == 2 and int(bob.get("errors")) == 2
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites.values())
