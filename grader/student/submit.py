"""``grader check --submit``: is this the file to hand in, and write it.

Four things are verified after the public checks ran the notebook in a fresh kernel:

1. **The right assignment**: the notebook's metadata names it (or names none), and it
   has most of the functions and classes of the assignment's stub.
2. **Nothing renamed**: every function and class of the stub is there under its name
   (``forwad`` for ``forward`` is named, with the suggestion).
3. **It runs top to bottom**: no cell raised and the kernel did not stop.
4. **Its size**: the file to hand in is within :data:`SUBMISSION_LIMIT_BYTES`, the size
   the grader refuses beyond (:data:`grader.notebook.MAX_NOTEBOOK_BYTES`).

When all hold, ``NAME_submission.ipynb`` is written beside the notebook: the student's
cells with outputs and execution counts cleared, and the assignment in its metadata.
Cleared, because grading runs it afresh anyway, outputs cannot carry results of an
out-of-order run, and the file stays small. Nothing is written when a check fails.
"""

from __future__ import annotations

import ast
import copy
import difflib
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.course import Assignment
from grader.notebook import INJECTED_TAG, MAX_NOTEBOOK_BYTES
from grader.results import GradingResult
from grader.student.diagnose import cell_errors, renumber, saved_cells

#: The largest file to hand in: what the grader reads at most.
SUBMISSION_LIMIT_BYTES = MAX_NOTEBOOK_BYTES


@dataclass(frozen=True)
class Verdict:
    """One pre-submission check: what it verified, whether it holds, and why not."""

    what: str
    ok: bool
    detail: str = ""


def submission_path(notebook: Path, assignment: str, output: Path | None = None) -> Path:
    return output or notebook.with_name(f"{assignment}_submission.ipynb")


def submission_bytes(nb: nbformat.NotebookNode, assignment: str) -> bytes:
    """The notebook to hand in: outputs cleared, the assignment named in its metadata."""
    clean = copy.deepcopy(nb)
    clean.cells = [
        c for c in clean.cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])
    ]
    for cell in clean.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    clean.metadata.setdefault("dlgrader", {})["assignment"] = assignment
    return (nbformat.writes(clean) + "\n").encode("utf-8")


def verify(
    assignment: Assignment,
    nb: nbformat.NotebookNode,
    result: GradingResult,
    handed_in: bytes,
) -> list[Verdict]:
    """The pre-submission checks, in order (see the module's docstring)."""
    return [
        right_assignment(assignment, nb),
        defines_the_stubs_names(assignment, nb),
        runs_top_to_bottom(result, nb),
        within_size(handed_in),
    ]


def right_assignment(assignment: Assignment, nb: nbformat.NotebookNode) -> Verdict:
    what = f"it is the {assignment.name} notebook"
    named = nb.metadata.get("dlgrader", {}).get("assignment")
    if isinstance(named, str) and named and named != assignment.name:
        return Verdict(
            what,
            False,
            f"its metadata says it was made for '{named}', not '{assignment.name}': "
            "is this the right file?",
        )
    required = stub_names(assignment)
    have = defined_names(nb)
    missing = sorted(required - have)
    if required and len(missing) * 2 > len(required):
        return Verdict(
            what,
            False,
            f"it defines none or few of what the {assignment.name} notebook has "
            f"({', '.join(sorted(required)[:6])}): is this the right file?",
        )
    if not named:
        return Verdict(what, True, "its metadata named no assignment: the file to hand in does")
    return Verdict(what, True)


def defines_the_stubs_names(assignment: Assignment, nb: nbformat.NotebookNode) -> Verdict:
    """Every function and class the stub defines is still there, under the same name."""
    required = stub_names(assignment)
    have = defined_names(nb)
    missing = sorted(required - have)
    what = "it defines every function and class the stub does"
    if missing:
        return Verdict(what, False, "; ".join(_suggest(name, have) for name in missing))
    return Verdict(what, True)


def runs_top_to_bottom(result: GradingResult, nb: nbformat.NotebookNode) -> Verdict:
    what = "it runs top to bottom in a fresh kernel"
    execution = result.execution
    if execution is None:
        return Verdict(what, False, result.grading_error or "it could not be run")
    problems = cell_errors(renumber(execution.errors, saved_cells(nb)))
    if execution.stopped_at_cell is not None:
        problems.append(
            execution.stop_reason or f"the kernel stopped at cell {execution.stopped_at_cell}"
        )
    if problems:
        return Verdict(what, False, "\n".join(problems))
    return Verdict(what, True)


def within_size(handed_in: bytes, limit: int = SUBMISSION_LIMIT_BYTES) -> Verdict:
    size = len(handed_in)
    what = f"it is within the size limit ({limit / 2**20:g} MiB)"
    if size > limit:
        return Verdict(
            what,
            False,
            f"the file to hand in is {size / 2**20:.1f} MiB even without outputs: remove "
            "embedded images or data from its cells",
        )
    return Verdict(what, True)


# -- names a notebook defines -------------------------------------------------------


def stub_names(assignment: Assignment) -> set[str]:
    """Top-level functions and classes of the assignment's stub (in a release: NAME.ipynb)."""
    for path in (assignment.stub, assignment.course.root / f"{assignment.name}.ipynb"):
        if path.is_file():
            try:
                return defined_names(nbformat.read(path, as_version=4))
            except Exception:  # noqa: BLE001 - an unreadable stub leaves this check out
                return set()
    return set()


def defined_names(nb: nbformat.NotebookNode) -> set[str]:
    """Names of top-level ``def`` and ``class`` statements in the code cells."""
    names: set[str] = set()
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except (SyntaxError, ValueError):
            continue  # IPython magics, or a cell that does not parse: the run says so
        names.update(
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        )
    return names


def _suggest(name: str, have: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(have), n=1, cutoff=0.75)
    if close:
        return f"no '{name}'; it has '{close[0]}': did you mean '{name}'?"
    return f"no '{name}'"
