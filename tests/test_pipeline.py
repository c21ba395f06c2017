"""Grading a whole submission through the pipeline, on the toy course (real kernels)."""

import json
from pathlib import Path

import nbformat
import pytest

from grader.config import Recovery
from grader.course import Assignment, find_course
from grader.pipeline import grade, write_outputs
from grader.results import GradingResult, json_schema

TOY = Path(__file__).parent / "fixtures" / "toy_course"


@pytest.fixture(scope="module")
def toy():
    return find_course(TOY).assignment("toy")


def statuses(result):
    return {c.id: c.status for c in result.criteria}


def with_cells(tmp_path, *sources, name="sub.ipynb"):
    solution = nbformat.read(TOY / "solutions" / "toy.ipynb", as_version=4)
    solution.cells += [nbformat.v4.new_code_cell(src) for src in sources]
    path = tmp_path / name
    nbformat.write(solution, path)
    return path


def test_solution_scores_full_marks_and_writes_outputs(toy, tmp_path):
    run = grade(toy, toy.solution)
    result = run.result
    assert statuses(result) == {
        "add": "passed",
        "scale": "passed",
        "estimate": "passed",
        "params": "passed",
        "gpu": "needs_gpu",
    }
    assert (result.score.points, result.score.max_points, result.score.pending_points) == (9, 10, 1)
    assert result.environment.sandbox in ("bubblewrap", "unshare", "none")
    assert result.criteria[2].measured["estimate"] == pytest.approx(0.5, abs=0.1)
    paths = write_outputs(run, tmp_path / "out")
    stored = GradingResult.model_validate_json(paths["results"].read_text())
    assert stored.score == result.score and stored.submission.sha256 == result.submission.sha256
    assert {"html", "markdown", "instructor_html"} <= set(paths)


def test_stub_fails_student_criteria(toy):
    result = grade(toy, toy.stub).result
    assert statuses(result)["add"] == "failed"
    add = result.criteria[0]
    assert "NotImplementedError" in add.detail and add.feedback == "add(a, b) must return a + b."
    assert result.score.points == 1  # only the grader's own parameter criterion


def test_check_mode_runs_public_criteria_only(toy):
    result = grade(toy, toy.solution, mode="check").result
    assert [c.id for c in result.criteria] == ["add"]


LIES = (
    "import builtins, numpy, torch\n"
    "numpy.allclose = lambda *a, **k: True\n"
    "numpy.testing.assert_allclose = lambda *a, **k: None\n"
    "torch.allclose = lambda *a, **k: True\n"
    "numpy.all = lambda *a, **k: True\n"
    "builtins.abs = lambda x: 0\n"
    "import sys\nsys.settrace(lambda *a: None)"
)


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [("np.asarray(x) * k", "passed"), ("np.asarray(x) * (k + 1)", "failed")],
)
def test_tampering_inside_the_kernel_changes_no_verdict(toy, tmp_path, answer, verdict):
    """Verdicts are the same with and without a notebook that makes comparisons lie."""
    scale = f"def scale(x, k):\n    return {answer}"
    honest = grade(toy, with_cells(tmp_path, scale, name="honest.ipynb")).result
    liar = grade(toy, with_cells(tmp_path, scale, LIES, name="liar.ipynb")).result
    assert statuses(honest)["scale"] == statuses(liar)["scale"] == verdict
    assert statuses(honest) == statuses(liar)


def test_breaking_the_kernel_is_never_a_pass(toy, tmp_path):
    broken = with_cells(
        tmp_path,
        "def scale(x, k):\n    return x",
        "import builtins\nbuiltins.isinstance = lambda *a: True",
    )
    result = grade(toy, broken).result
    assert statuses(result)["scale"] in ("failed", "not_run", "error")
    assert result.score.points < 9


def test_planted_conftest_and_results_file_change_nothing(toy, tmp_path):
    planted = with_cells(
        tmp_path,
        "def scale(x, k):\n    return x",
        "open('conftest.py', 'w').write('def pytest_runtest_logreport(report):\\n"
        '    report.outcome = "passed"\\n\')\n'
        "import json\njson.dump({'score': {'points': 10}}, open('results.json', 'w'))\n"
        "print(json.dumps({'score': 10, 'tests': []}))",
    )
    result = grade(toy, planted).result
    assert statuses(result)["scale"] == "failed"
    assert result.score.points < 9


def without_recovery(assignment: Assignment) -> Assignment:
    config = assignment.config.model_copy(update={"recovery": Recovery(replays=0)})
    return Assignment(course=assignment.course, config=config, folder=assignment.folder)


def test_a_cell_that_kills_the_kernel_costs_only_itself(toy, tmp_path):
    dying = with_cells(tmp_path, "import os\nos._exit(3)", "after_the_fatal_cell = 1")
    run = grade(toy, dying)
    result = run.result
    assert set(statuses(result).values()) <= {"passed", "needs_gpu"}
    assert result.execution.stopped_at_cell is None
    [skipped] = result.execution.skipped_cells
    assert skipped.cell == 6 and "kernel died while running cell 6" in skipped.reason
    reports = write_outputs(run, tmp_path / "out")
    assert "Cell 6 was skipped" in reports["html"].read_text()


def test_recovery_can_leave_out_the_cells_after_the_fatal_one(toy, tmp_path):
    from grader.notebook import skip_cells

    notebook = nbformat.read(with_cells(tmp_path, "import os\nos._exit(3)", "x = 1"), as_version=4)
    kept = skip_cells(notebook, 5, "run")
    assert "skipped" in kept.cells[4].source and kept.cells[5].source == "x = 1"
    dropped = skip_cells(notebook, 5, "skip")
    assert "it follows cell 5" in dropped.cells[5].source
    assert len(dropped.cells) == len(notebook.cells)  # numbering stays the student's


def test_kernel_death_marks_remaining_criteria_not_run(toy, tmp_path):
    dying = with_cells(tmp_path, "import os\nos._exit(3)")
    result = grade(without_recovery(toy), dying).result
    assert set(statuses(result).values()) <= {"not_run", "needs_gpu"}
    assert "cell" in result.criteria[0].detail and result.execution.stopped_at_cell is not None
    assert result.grading_error is None


def test_unreadable_submission_becomes_a_zero_row_with_reason(toy, tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ not json")
    result = grade(toy, broken).result
    assert result.score.points == 0 and "invalid JSON" in result.grading_error
    assert all(c.status in ("not_run", "needs_gpu") for c in result.criteria)


def test_cell_errors_are_recorded_with_numbers(toy, tmp_path):
    path = with_cells(tmp_path, "undefined_thing()")
    result = grade(toy, path).result
    error = result.execution.errors[0]
    assert error.ename == "NameError" and error.cell == 6  # 5 cells + injected parameters


def test_published_schema_is_current():
    published = Path(__file__).parent.parent / "docs" / "results.schema.json"
    assert json.loads(published.read_text()) == json_schema(), "run: grader schema -o " + str(
        published
    )


def test_kernel_is_told_the_tier_the_grader_judges(tmp_path, monkeypatch):
    """The grader and the notebook must agree on the data tier, whatever HOME is inside."""
    from grader.config import Limits
    from grader.execute import run_notebook
    from grader.pipeline import kernel_env
    from grader.runners.local import LocalRunner
    from grader.testing.live import notebook_from_cells

    monkeypatch.setenv("GRADER_DATA", str(tmp_path))
    env = kernel_env("full")
    assert env == {"DLGRADER_DATA_TIER": "full", "GRADER_DATA": str(tmp_path)}
    cells = ["from grader import datasets\ntier = datasets.tier('cifar10')"]
    limits = Limits()
    with (
        LocalRunner().session(limits, env) as session,
        run_notebook(notebook_from_cells(cells), session, limits) as run,
    ):
        assert run.bridge.get("tier") == "full"
