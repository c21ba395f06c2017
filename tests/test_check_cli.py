"""``grader check NOTEBOOK`` and ``--submit``, run by a student inside the released folder.

Each run is the real command: a fresh sandboxed kernel runs the notebook top to bottom,
then the public tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.course import find_course
from grader.notebook import read_submission
from grader.release import build_release

ROOT = Path(__file__).resolve().parent.parent
COURSE = find_course(ROOT)


def grader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "COLUMNS": "300"},  # a wide terminal: no wrapping inside the table
    )


@pytest.fixture
def release(tmp_path) -> Path:
    folder, _ = build_release(COURSE.assignment("backprop"), tmp_path)
    return folder


def student_notebook(folder: Path, name: str, edit=None) -> Path:
    """The reference solution saved as a student's notebook, with execution counts 1..n."""
    nb = nbformat.read(ROOT / "solutions" / "backprop.ipynb", as_version=4)
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="old output\n")]
    if edit is not None:
        edit(nb)
    path = folder / name
    nbformat.write(nb, path)
    return path


def test_a_misspelled_function_a_raising_cell_and_stale_counts_are_named(release):
    def mistakes(nb):
        code = [c for c in nb.cells if c.cell_type == "code"]
        forward = next(c for c in code if "def forward(" in c.source)
        forward.source = forward.source.replace("def forward(", "def forwad(")
        forward.execution_count = 40  # re-run after the cells below it

    path = student_notebook(release, "typo.ipynb", mistakes)
    done = grader("check", "--submit", path.name, cwd=release)
    out = " ".join(done.stdout.split())

    assert done.returncode == 1, done.stdout + done.stderr
    assert "(public tests only; hidden tests run at grading)" in out
    assert "failed (public)" in out and "passed (public)" in out
    assert "the notebook defines no 'forward'; it has 'forwad': did you mean 'forward'?" in out
    # The cell that calls the missing name: its number in the student's notebook, the line.
    train_cell = 1 + next(
        i for i, c in enumerate(nbformat.read(path, as_version=4).cells) if "= train(" in c.source
    )
    assert f"cell {train_cell}, line 1 raised NameError: name 'forward' is not defined" in out
    assert "cells ran out of order" in out and "In [40]" in out
    assert "✗ it defines every function and class the stub does" in out
    assert "✗ it runs top to bottom in a fresh kernel" in out
    assert "Not written" in done.stderr and not (release / "backprop_submission.ipynb").exists()
    assert "Traceback" not in done.stderr


def test_submit_writes_the_file_to_hand_in(release):
    path = student_notebook(release, "mine.ipynb")
    done = grader("check", "--submit", path.name, cwd=release)
    out = " ".join(done.stdout.split())

    assert done.returncode == 0, done.stdout + done.stderr
    for verified in (
        "✓ it is the backprop notebook",
        "✓ it defines every function and class the stub does",
        "✓ it runs top to bottom in a fresh kernel",
        "✓ it is within the size limit (50 MiB)",
    ):
        assert verified in out
    handed_in = release / "backprop_submission.ipynb"
    assert f"hand in: {handed_in.name}" in out
    nb, _raw = read_submission(handed_in)  # what the grader reads
    assert nb.metadata["dlgrader"]["assignment"] == "backprop"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert [c.source for c in code] == [
        c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
    ]
