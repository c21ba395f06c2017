"""Start a real kernel on given source cells and hand back an ``nb`` for it.

Used by the grader's own test suite (every check is shown catching a wrong
answer in a real kernel) and by anyone exploring a probe interactively.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat

from grader import numerics as numerics_
from grader.config import Framework, Limits, Numerics
from grader.execute import NotebookRun, run_notebook
from grader.runners.local import LocalRunner
from grader.testing.fixture import Notebook


def notebook_from_cells(cells: Sequence[str]) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in cells])


@contextmanager
def live_notebook(
    cells: Sequence[str] | nbformat.NotebookNode,
    limits: Limits | None = None,
    context: dict[str, Any] | None = None,
    data: Path | None = None,
    numerics: Numerics | None = None,
    framework: Framework = "numpy",
    runner: LocalRunner | None = None,
) -> Iterator[tuple[Notebook, NotebookRun]]:
    """Run ``cells`` in a sandboxed kernel; yield the test-side ``nb`` and the run record.

    ``data``: a folder the kernel finds at ``data/`` (an assignment's data files).
    ``numerics`` (default: an assignment's defaults) pins seeds, threads and instruction
    set as grading does; ``framework`` says which frameworks to seed. ``runner``: the
    local runner to use (default: a fresh one, no pool).
    """
    nb = cells if isinstance(cells, nbformat.NotebookNode) else notebook_from_cells(cells)
    limits = limits or Limits(cell_timeout=120, request_timeout=60)
    settings = numerics or Numerics()
    with (
        (runner or LocalRunner()).session(
            limits, numerics_.kernel_variables(settings), data=data
        ) as session,
        run_notebook(nb, session, limits, preamble=numerics_.preamble(settings, framework)) as run,
    ):
        yield Notebook(run.bridge, context or {}), run
