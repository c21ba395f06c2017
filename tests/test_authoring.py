"""Stubs are generated from marked solutions and can never drift from them."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.authoring import make_stub, strip_solution, stub_text
from grader.course import find_course
from grader.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
COURSE = find_course(ROOT)


def test_markers_become_one_line_with_the_hint():
    source = (
        "def f(x):\n"
        '    """Docstring kept."""\n'
        "    ### BEGIN SOLUTION: write f(x)\n"
        "    y = x * 2\n"
        "    return y\n"
        "    ### END SOLUTION\n"
        "\n"
        "### BEGIN SOLUTION = history = []  # one value per epoch\n"
        "history = train()\n"
        "### END SOLUTION\n"
        "### BEGIN SOLUTION\n"
        "secret = 42\n"
        "### END SOLUTION"
    )
    assert strip_solution(source) == (
        "def f(x):\n"
        '    """Docstring kept."""\n'
        "    raise NotImplementedError('write f(x)')\n"
        "\n"
        "history = []  # one value per epoch\n"
        "raise NotImplementedError('replace this line with your code')"
    )


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("### BEGIN SOLUTION\nx = 1", "never ended"),
        ("x = 1\n### END SOLUTION", "without BEGIN"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
        ("### BEGIN SOLUTION please\nx\n### END SOLUTION", "': hint' or '= code'"),
    ],
)
def test_marker_mistakes_are_errors_with_the_line(source, says):
    with pytest.raises(ConfigError, match=says):
        strip_solution(source, "solutions/x.ipynb, cell 3")


def test_stub_clears_outputs_and_keeps_tags():
    cell = nbformat.v4.new_code_cell(
        "N = 3\n### BEGIN SOLUTION: fill\nx = 1\n### END SOLUTION",
        metadata={"tags": ["parameters"]},
    )
    cell.outputs = [nbformat.v4.new_output("stream", text="1")]
    cell.execution_count = 4
    stub = make_stub(nbformat.v4.new_notebook(cells=[cell]), "demo")
    (out,) = stub.cells
    assert out.outputs == [] and out.execution_count is None and "x = 1" not in out.source
    assert (
        out.metadata["tags"] == ["parameters"] and stub.metadata["dlgrader"]["assignment"] == "demo"
    )
    assert cell.source.startswith("N = 3\n### BEGIN"), "the solution itself must not change"


def test_solution_without_markers_is_refused(tmp_path):
    path = tmp_path / "s.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    with pytest.raises(ConfigError, match="give the answers away"):
        stub_text(path, "s")


@pytest.mark.parametrize("name", COURSE.assignment_names())
def test_committed_stub_is_what_assign_generates(name):
    assignment = COURSE.assignment(name)
    generated = stub_text(assignment.solution, name)
    assert assignment.stub.read_text(encoding="utf-8") == generated, (
        f"{assignment.stub} has drifted from {assignment.solution}: run grader assign {name}"
    )


def test_assign_check_reports_a_stale_stub(tmp_path):
    course = tmp_path / "course"
    for folder in ("assignments/backprop", "rubrics", "solutions"):
        (course / folder).parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "cp",
            "-r",
            str(ROOT / "assignments" / "backprop"),
            str(course / "assignments" / "backprop"),
        ],
        check=True,
    )
    (course / "solutions").mkdir(exist_ok=True)
    (course / "solutions" / "backprop.ipynb").write_bytes(
        (ROOT / "solutions" / "backprop.ipynb").read_bytes()
    )
    (course / "rubrics").mkdir(exist_ok=True)

    def assign(*args):
        return subprocess.run(
            [sys.executable, "-m", "grader", "assign", "backprop", "--course", str(course), *args],
            capture_output=True,
            text=True,
        )

    assert assign("--check").returncode == 0
    stub = course / "assignments" / "backprop" / "stub.ipynb"
    stub.write_text(stub.read_text().replace("write sigmoid(z)", "write it"))
    stale = assign("--check")
    assert stale.returncode == 1 and "grader assign backprop" in " ".join(stale.stderr.split())
    assert assign().returncode == 0 and assign("--check").returncode == 0
