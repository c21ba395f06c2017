"""Reading this course's assignment files, for the content tests of every assignment.

One place for the helpers that test_assignments_content.py and the per-lab test files
share, so a change to the layout is made once.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import nbformat
import yaml

from grader.config import AssignmentConfig
from grader.rubric import Rubric, load_rubric

ROOT = Path(__file__).resolve().parents[1]


def folder(name: str) -> Path:
    return ROOT / "assignments" / name


def config(name: str) -> AssignmentConfig:
    return AssignmentConfig.model_validate(
        yaml.safe_load((folder(name) / "assignment.yaml").read_text(encoding="utf-8"))
    )


def rubric(name: str) -> Rubric:
    return load_rubric(ROOT / "rubrics" / f"{name}.yaml", folder(name) / "tests")


def assignment_test_files(name: str) -> list[Path]:
    return sorted((folder(name) / "tests").glob("*/test_*.py"))


def read_notebook(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    return notebook


def load_test_module(name: str, relative: str) -> ModuleType:
    """Import an assignment's test file under a unique name, to reuse its references."""
    path = folder(name) / "tests" / relative
    spec = importlib.util.spec_from_file_location(f"_lab_{name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def mistaken(nb, **names: str) -> Iterator[None]:
    """Swap the notebook's functions for planted mistakes (the test notebook's ``rebind``
    cell), and put the right ones back (``restore``) whatever the test found."""
    nb.call("rebind", **names)
    try:
        yield
    finally:
        nb.call("restore")
