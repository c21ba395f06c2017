"""Authoring from one source: the student stub is generated from the reference solution.

A course author marks what students must write::

    def sigmoid(z):
        \"\"\"Logistic function, element-wise.\"\"\"
        ### BEGIN SOLUTION: write sigmoid(z) without overflow for large |z|
        ...the reference code...
        ### END SOLUTION

In the stub, the marked block becomes one line at the marker's indentation:
``raise NotImplementedError("<hint>")`` (the text after ``BEGIN SOLUTION:``), or,
with ``### BEGIN SOLUTION = <code>``, that code (for top-level statements such as
``history = []``). Everything else is kept; outputs are cleared. Because the stub
is derived, it can never drift from the solution: ``grader assign --check`` (and a
test) fail when the committed stub is not what would be generated now.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from grader.errors import ConfigError

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?P<rest>.*?)\s*$")
END = re.compile(r"^[ \t]*### END SOLUTION\s*$")
DEFAULT_HINT = "replace this line with your code"


def strip_solution(source: str, where: str = "cell") -> str:
    """The student version of one cell's source; ``where`` names the cell in errors."""
    out: list[str] = []
    inside_from: int | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        begin = BEGIN.match(line)
        if begin:
            if inside_from is not None:
                raise ConfigError(
                    f"{where}, line {number}: BEGIN SOLUTION inside another block "
                    f"(opened on line {inside_from})"
                )
            inside_from = number
            out.append(begin["indent"] + _replacement(begin["rest"], f"{where}, line {number}"))
        elif END.match(line):
            if inside_from is None:
                raise ConfigError(f"{where}, line {number}: END SOLUTION without BEGIN SOLUTION")
            inside_from = None
        elif inside_from is None:
            out.append(line)
    if inside_from is not None:
        raise ConfigError(f"{where}: BEGIN SOLUTION on line {inside_from} is never ended")
    text = "\n".join(out)
    return text + "\n" if source.endswith("\n") else text


def _replacement(rest: str, where: str) -> str:
    rest = rest.strip()
    if not rest:
        return f"raise NotImplementedError({DEFAULT_HINT!r})"
    if rest.startswith(":"):
        return f"raise NotImplementedError({rest[1:].strip() or DEFAULT_HINT!r})"
    if rest.startswith("="):
        code = rest[1:].strip()
        if code:
            return code
    raise ConfigError(
        f"{where}: after BEGIN SOLUTION write ': hint' or '= code', not {rest[:40]!r}"
    )


def has_markers(nb: nbformat.NotebookNode) -> bool:
    return any(
        cell.cell_type == "code" and any(BEGIN.match(line) for line in cell.source.splitlines())
        for cell in nb.cells
    )


def make_stub(
    solution: nbformat.NotebookNode, assignment: str, source: str = "solution"
) -> nbformat.NotebookNode:
    """The student notebook generated from a marked solution."""
    stub = copy.deepcopy(solution)
    for index, cell in enumerate(stub.cells, start=1):
        if cell.cell_type != "code":
            continue
        cell.source = strip_solution(cell.source, f"{source}, cell {index}")
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
    stub.metadata.setdefault("dlgrader", {})["assignment"] = assignment
    return stub


def stub_text(solution_path: Path, assignment: str) -> str:
    """The exact file contents ``grader assign`` writes for this solution."""
    try:
        solution = nbformat.read(solution_path, as_version=4)
    except FileNotFoundError:
        raise ConfigError(
            f"{solution_path}: no solution notebook to generate the stub from"
        ) from None
    if not has_markers(solution):
        raise ConfigError(
            f"{solution_path}: no '### BEGIN SOLUTION' markers, so the stub would give the "
            "answers away; mark what students write (see docs/authoring.md)"
        )
    return nbformat.writes(make_stub(solution, assignment, str(solution_path))) + "\n"
