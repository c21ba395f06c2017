"""The usual student troubles, said plainly: cells run out of order, cells that raised.

Pure functions on notebook data, shared by the in-notebook check (which reads the
kernel's history) and ``grader check`` (which reads the saved file). They produce notes,
never verdicts: a stale notebook is a warning, because grading runs it top to bottom.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from grader.results import CellError

#: A cell that calls check(): re-running it changes nothing, so its order does not matter.
CHECK_CALL = re.compile(r"\bcheck\s*\(")
#: The line IPython's traceback points at: ``----> 3 y = forward(params, X)``.
ARROW = re.compile(r"^-+>\s*(\d+)\s?(.*)$", re.MULTILINE)
#: What a student does about it, in the notebook.
RESTART = (
    "so later cells may hold results of older code; restart the kernel and run all cells, "
    "top to bottom, before you submit"
)
#: What ``grader check`` adds: its own run was fresh, so its table is not affected.
FRESH_RUN = "this check ran it top to bottom in a fresh kernel, as grading will"


@dataclass(frozen=True)
class RanCell:
    """A code cell of the notebook and the execution count of its latest run."""

    number: int  # 1-based position among all the notebook's cells, as Jupyter shows it
    source: str
    count: int | None


def out_of_order(cells: Iterable[RanCell]) -> str | None:
    """A note if the latest runs of the cells are not in notebook order, else None.

    Run top to bottom, each cell's latest execution count is higher than the one of
    every cell above it. A cell re-run after a later one (an edited ``forward`` after
    training) means later cells may hold values from an older version of it.
    """
    ran = [
        c
        for c in cells
        if c.count is not None and c.source.strip() and not CHECK_CALL.search(c.source)
    ]
    highest: RanCell | None = None
    for cell in ran:
        if highest is not None and cell.count < highest.count:  # type: ignore[operator]
            return (
                f"cells ran out of order: cell {highest.number} last ran as "
                f"In [{highest.count}], after cell {cell.number} below it (In [{cell.count}])"
            )
        if highest is None or cell.count > highest.count:  # type: ignore[operator]
            highest = cell
    return None


def saved_cells(nb: NotebookNode) -> list[RanCell]:
    """The code cells of a saved notebook with the execution counts it recorded."""
    return [
        RanCell(number, cell.get("source", ""), cell.get("execution_count"))
        for number, cell in enumerate(nb.cells, start=1)
        if cell.get("cell_type") == "code"
    ]


def error_line(error: CellError) -> str:
    """``cell 5, line 3: NameError: ...`` with the line of code, from a recorded error."""
    where = f"cell {error.cell}"
    code = ""
    found = ARROW.search(error.traceback or "")
    if found:
        where += f", line {found.group(1)}"
        code = found.group(2).strip()
    text = f"{where} raised {error.ename}: {_first_line(error.evalue)}"
    if code:
        text += f"\n    {code[:200]}"
    return text


def cell_errors(errors: Iterable[CellError]) -> list[str]:
    """One note per cell that raised when the notebook ran top to bottom."""
    return [error_line(e) for e in errors]


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:300] if lines else ""


def source_head(source: str) -> str:
    """The first lines of a cell, as a recorded :class:`CellError` keeps them."""
    return "\n".join(source.splitlines()[:3])[:300]


def renumber(errors: Iterable[CellError], cells: list[RanCell]) -> list[CellError]:
    """Errors numbered by the student's own cells, found by their first lines.

    Grading may insert a cell (injected parameters), so the run's numbers can be one
    off from what the student sees; the cell's first lines say which cell it was.
    """
    fixed = []
    for error in errors:
        same = [c.number for c in cells if error.source and source_head(c.source) == error.source]
        if same:
            error = error.model_copy(update={"cell": min(same, key=lambda n: abs(n - error.cell))})
        fixed.append(error)
    return fixed
