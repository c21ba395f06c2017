"""The pieces of a student's check, each shown catching what it is for (no kernels)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.bridge import StudentError
from grader.course import find_course
from grader.probes.kernel import missing_name_message
from grader.release import build_release, questions
from grader.results import CellError
from grader.student.bundle import CheckSetupError, find_bundle, pick_assignment, select
from grader.student.diagnose import RanCell, error_line, out_of_order, renumber
from grader.student.submit import defined_names, right_assignment, within_size
from grader.student.summary import CheckRow, CheckSummary
from grader.testing.plugin import describe

ROOT = Path(__file__).resolve().parent.parent
COURSE = find_course(ROOT)


def test_importing_check_stays_cheap():
    """A notebook's first cell imports it: no pydantic, pytest or frameworks until it runs."""
    code = (
        "import sys; from grader import check; "
        "print(sorted({'pydantic', 'pytest', 'yaml'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# -- questions ------------------------------------------------------------------


def test_questions_are_the_public_criteria_in_order_in_course_and_release(tmp_path):
    course = COURSE.assignment("backprop")
    folder, _ = build_release(course, tmp_path)
    released = find_course(folder).assignment("backprop")
    ours = {q: c.id for q, c in questions(course.rubric).items()}
    assert ours == {"q1": "shapes", "q2": "basic_values"}
    assert {q: c.id for q, c in questions(released.rubric).items()} == ours


def test_select_by_number_id_or_all_and_unknown_names_the_choices():
    assignment = COURSE.assignment("backprop")
    assert list(select(assignment, "q2")) == ["q2"]
    assert list(select(assignment, "Q1")) == ["q1"]
    assert list(select(assignment, "basic_values")) == ["q2"]
    assert list(select(assignment)) == list(select(assignment, "all")) == ["q1", "q2"]
    with pytest.raises(CheckSetupError, match="did you mean 'shapes'.*q1 \\(shapes\\)"):
        select(assignment, "shape")
    with pytest.raises(CheckSetupError, match="no check 'sigmoid'"):
        select(assignment, "sigmoid")  # a hidden criterion is not checkable


def test_bundle_is_found_beside_or_one_folder_down_else_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    with pytest.raises(CheckSetupError, match="no released assignment found.*course="):
        find_bundle(start=tmp_path)
    folder, _ = build_release(COURSE.assignment("backprop"), tmp_path)
    assert find_bundle(start=folder / "assignments").root == folder  # inside: walk up
    assert find_bundle(start=tmp_path).root == folder  # Colab: unzipped into /content/NAME
    assert pick_assignment(find_bundle(start=folder)).name == "backprop"
    with pytest.raises(CheckSetupError, match="no such folder"):
        find_bundle(tmp_path / "missing")


# -- missing names ----------------------------------------------------------------


def test_a_missing_name_suggests_the_students_close_spelling():
    def forwad():
        pass

    namespace = {"forwad": forwad, "losses": [1.0], "In": [], "_private": forwad}
    assert missing_name_message("forward", namespace, True) == (
        "the notebook defines no 'forward'; it has 'forwad': did you mean 'forward'?"
    )
    # A function is wanted: the list `losses` is not offered for `loss`.
    assert missing_name_message("loss", namespace, True) == "the notebook defines no 'loss'"
    assert "it has 'losses'" in missing_name_message("loss", namespace, False)
    assert "it has 'Net'" in missing_name_message("NET", {"Net": type}, True)


def test_a_missing_name_is_reported_as_such_not_as_a_raise():
    missing = StudentError(
        "NameError", "the notebook defines no 'f'; it has 'g': did you mean 'f'?"
    )
    assert describe(missing) == ("failed", missing.message)
    raised = StudentError("NameError", "name 'W' is not defined")
    assert describe(raised) == ("failed", "your code raised NameError: name 'W' is not defined")


# -- stale notebooks and cell errors -------------------------------------------------


def test_cells_run_out_of_order_are_caught_and_check_cells_ignored():
    in_order = [RanCell(1, "a = 1", 1), RanCell(2, "b = a", 2), RanCell(4, "c = b", 5)]
    assert out_of_order(in_order) is None
    rerun = [RanCell(1, "a = 1", 7), RanCell(2, "b = a", 2), RanCell(3, "c = b", 3)]
    assert out_of_order(rerun) == (
        "cells ran out of order: cell 1 last ran as In [7], after cell 2 below it (In [2])"
    )
    ignored = [
        RanCell(1, "a = 1", 1),
        RanCell(2, "check('q1')", 9),  # re-running a check changes nothing
        RanCell(3, "", 8),
        RanCell(4, "b = a", None),  # never run
        RanCell(5, "c = 2", 2),
    ]
    assert out_of_order(ignored) is None


def test_a_cell_error_names_the_cell_the_line_and_the_code():
    error = CellError(
        cell=6,
        ename="NameError",
        evalue="name 'W' is not defined",
        traceback="NameError  Traceback\nCell In[6], line 2\n      1 x = 1\n----> 2 y = W @ x\n",
        source="x = 1\ny = W @ x\nprint(y)",  # a cell's first three lines
    )
    assert error_line(error) == (
        "cell 6, line 2 raised NameError: name 'W' is not defined\n    y = W @ x"
    )
    # Grading inserted a parameters cell above: the student's own number is found again.
    cells = [RanCell(1, "SEED = 0", 1), RanCell(5, "x = 1\ny = W @ x\nprint(y)", 2)]
    assert [e.cell for e in renumber([error], cells)] == [5]


# -- before submitting -----------------------------------------------------------


def test_a_notebook_made_for_another_assignment_is_refused():
    assignment = COURSE.assignment("backprop")
    nb = nbformat.read(assignment.stub, as_version=4)
    assert right_assignment(assignment, nb).ok
    nb.metadata["dlgrader"] = {"assignment": "cbow"}
    verdict = right_assignment(assignment, nb)
    assert not verdict.ok and "made for 'cbow'" in verdict.detail
    scratch = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def f():\n    pass")])
    verdict = right_assignment(assignment, scratch)
    assert not verdict.ok and "right file" in verdict.detail


def test_size_limit_and_names_that_do_not_parse():
    assert within_size(b"x" * 10, limit=10).ok
    too_big = within_size(b"x" * 11, limit=10)
    assert not too_big.ok and "without outputs" in too_big.detail
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in ("%matplotlib inline", "class A:\n    pass")]
    )
    assert defined_names(nb) == {"A"}


def test_the_summary_escapes_what_student_code_put_in_messages():
    summary = CheckSummary(
        assignment="backprop",
        title="Backprop",
        source="this kernel",
        rows=[CheckRow("q1", "shapes", "Shapes", "failed", 0, 3, "got <script>alert(1)</script>")],
    )
    html = summary.html()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "public tests only" in html and "failed (public)" in summary.text()
