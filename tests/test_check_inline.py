"""check() inside a student's notebook: a real Jupyter kernel, started in the released folder.

The kernel is an ordinary ipykernel whose working folder is the unzipped release, as
JupyterLab, Notebook or VS Code start it for a notebook there; the test reads what the
check cell displayed.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from grader.course import find_course
from grader.release import build_release
from grader.student.inline import local_gpu
from grader.testing.live import live_notebook, notebook_from_cells

ROOT = Path(__file__).resolve().parent.parent
COURSE = find_course(ROOT)

WRONG_FORWARD = """
def forward(params, X):
    A = X
    for layer in range(1, len(params) // 2 + 1):
        A = sigmoid(A @ params[f"W{layer}"] + params[f"b{layer}"])
    return A.T, {}  # transposed: (n_L, N) instead of (N, n_L)
"""


def solution_cells(upto: str = "def loss") -> list[str]:
    """The reference solution's code cells, up to the one that contains ``upto``."""
    cells = []
    for cell in nbformat.read(ROOT / "solutions" / "backprop.ipynb", as_version=4).cells:
        if cell.cell_type == "code":
            cells.append(cell.source)
            if upto in cell.source:
                return cells
    raise AssertionError(f"no cell with {upto!r}")


def run_in_jupyter(folder: Path, cells: list[str], saved: list[str] | None = None):
    """Run ``cells`` in a fresh kernel whose working folder is ``folder``; the executed nb.

    ``saved`` (default: ``cells``) is the notebook as saved to ``folder/backprop.ipynb``,
    where the student edits it: the check compares the kernel's history with it.
    """
    meta = {"dlgrader": {"assignment": "backprop"}}
    on_disk = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in saved or cells], metadata=meta
    )
    nbformat.write(on_disk, folder / "backprop.ipynb")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in cells])
    NotebookClient(
        nb, timeout=120, allow_errors=True, resources={"metadata": {"path": str(folder)}}
    ).execute()
    return nb


def shown(cell, mime: str = "text/plain") -> str:
    """What a cell displayed in ``mime`` (check() shows itself as display data)."""
    parts = []
    for output in cell.outputs:
        if output.output_type in ("display_data", "execute_result"):
            parts.append(output.get("data", {}).get(mime, ""))
        elif output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
    return "\n".join(parts)


@pytest.fixture
def release(tmp_path) -> Path:
    folder, _ = build_release(COURSE.assignment("backprop"), tmp_path)
    return folder


def test_check_q1_passes_a_right_answer_and_gives_the_rubric_feedback_for_a_wrong_one(release):
    shapes = COURSE.assignment("backprop").rubric.criterion("shapes")
    local_nb = (
        "from grader.testing.fixture import Notebook\n"
        "nb = Notebook.local()\n"
        "half = nb.call('sigmoid', np.zeros(2))\n"
        "print(type(half).__name__, half.tolist(), nb.exists('forwad'), nb.ref('init_params'))"
    )
    cells = [
        "from grader import check",
        *solution_cells(),
        'right = check("q1")',
        local_nb,
        WRONG_FORWARD,
        'check("q1")',
    ]
    nb = run_in_jupyter(release, cells)
    right, wrong = shown(nb.cells[-4]), shown(nb.cells[-1])
    # The local form of `nb`: values cross the same wire (an array comes back as a copy).
    assert shown(nb.cells[-3]).startswith("ndarray [0.5, 0.5] False <kernel object r")

    assert "q1" in right and "passed (public)" in right and "failed" not in right
    assert "public tests only; hidden tests run at grading" in right
    assert right.count("passed (public)") == 1, "shown once, though check() is also the value"
    assert "basic_values" not in right, "check('q1') checks q1 only"

    assert "failed (public)" in wrong and shapes.feedback.failed in wrong
    assert "Y_hat has shape (1, 4), expected (4, 1)" in wrong  # what the public test saw
    assert "public score: 0 / 3" in wrong
    html = shown(nb.cells[-1], "text/html")
    assert "failed (public)" in html and "public tests only" in html and "<table" in html


def test_the_usual_troubles_are_named(release):
    """A misspelled function, a cell that raised, cells run out of order, a wrong id."""
    *setup, forward_and_loss = solution_cells()
    misspelled = forward_and_loss.replace("def forward(", "def forwad(")
    saved = ["from grader import check", "y = 2", *setup, misspelled, "1 / 0", "check()"]
    # Run as a student might: a cell that raised, then edited; forward again at the end.
    ran = [saved[0], "y = undefined_name", *saved[1:-1], misspelled, "check()"]
    ran += ['check("q9")', 'check(course="nowhere")']
    nb = run_in_jupyter(release, ran, saved=saved)
    everything, unknown, nowhere = (shown(c) for c in nb.cells[-3:])

    assert "the notebook defines no 'forward'; it has 'forwad': did you mean 'forward'?" in (
        everything
    )
    assert "raised ZeroDivisionError: division by zero" in everything and "1 / 0" in everything
    assert "undefined_name" not in everything, "an error of a cell edited since is not shown"
    assert "cells ran out of order" in everything and "restart the kernel" in everything
    assert "q2" in everything and "passed (public)" in everything  # sigmoid and loss are right
    assert "no check 'q9'" in unknown and "q1 (shapes), q2 (basic_values)" in unknown
    assert "'nowhere': no such folder" in nowhere
    assert "Traceback" not in unknown + nowhere


def test_a_gpu_check_without_a_gpu_is_skipped_and_a_hang_is_stopped(tmp_path):
    """Without a GPU its check is skipped with the reason; a hung function meets its deadline."""
    if local_gpu()[0]:
        pytest.skip("this machine has a GPU: the check runs instead of being skipped")
    course = tmp_path / "gpulab"
    tests = course / "assignments" / "gpulab" / "tests" / "public"
    tests.mkdir(parents=True)
    (course / "rubrics").mkdir()
    (course / "assignments" / "gpulab" / "assignment.yaml").write_text(
        "name: gpulab\ntitle: A GPU lab\nframework: numpy\nlimits: {request_timeout: 2}\n"
    )
    (tests / "test_gpu.py").write_text(
        "def test_on_gpu(nb):\n    nb.require_gpu()\n    assert nb.call('device') == 'cuda'\n\n"
        "def test_add(nb):\n    assert nb.call('add', 2, 3) == 5, 'add(2, 3) is not 5'\n\n"
        "def test_hang(nb):\n    nb.call('hang')\n"
    )
    rubric = {
        "assignment": "gpulab",
        "criteria": [
            {
                "id": "on_gpu",
                "name": "Runs on the GPU",
                "points": 2,
                "tests": ["public/test_gpu.py::test_on_gpu"],
                "requires_gpu": True,
                "feedback": {"pass": "On the GPU.", "fail": "Not on the GPU."},
            },
            {
                "id": "add",
                "name": "Adds",
                "points": 1,
                "tests": ["public/test_gpu.py::test_add"],
                "feedback": {"pass": "Adds.", "fail": "add(a, b) must return a + b."},
            },
            {
                "id": "hang",
                "name": "Returns",
                "points": 1,
                "tests": ["public/test_gpu.py::test_hang"],
                "feedback": {"pass": "Returns.", "fail": "hang() must return."},
            },
        ],
    }
    (course / "rubrics" / "gpulab.yaml").write_text(yaml.safe_dump(rubric))
    work = tmp_path / "elsewhere"
    work.mkdir()
    cells = [
        "def device():\n    return 'cuda'\n\ndef add(a, b):\n    return a + b\n\n"
        "def hang():\n    while True:\n        pass",
        f"from grader import check\ncheck(course={str(course)!r})",
        "after = 'the kernel still answers'\nprint(after)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in cells])
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(work)}}).execute()
    text = shown(nb.cells[-2])
    assert "skipped (public)" in text and "needs a GPU" in text
    assert "this machine has no NVIDIA GPU" in text
    assert "public score: 1 / 2" in text, "a skipped GPU check is not a zero"
    assert "your code did not finish: no answer within 2 s" in text
    assert "the kernel still answers" in shown(nb.cells[-1])


def test_check_cells_stand_aside_when_the_grader_runs_the_notebook():
    """In the grader's kernel (grading, `grader check`), check() says so and runs nothing."""
    nb = notebook_from_cells(
        [
            "from grader import check\nresult = check('q1')",
            "import sys\nran = 'pytest' in sys.modules",
        ]
    )
    with live_notebook(nb) as (kernel, run):
        assert kernel.get("ran") is False, "no tests ran in the grader's kernel"
    assert not run.execution.errors
    assert "skipped while the grader runs this notebook" in shown(nb.cells[0])
