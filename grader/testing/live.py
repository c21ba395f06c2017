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

from grader.config import Limits
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
) -> Iterator[tuple[Notebook, NotebookRun]]:
    """Run ``cells`` in a sandboxed kernel; yield the test-side ``nb`` and the run record.

    ``data``: a folder the kernel finds at ``data/`` (an assignment's data files).
    """
    nb = cells if isinstance(cells, nbformat.NotebookNode) else notebook_from_cells(cells)
    limits = limits or Limits(cell_timeout=120, request_timeout=60)
    with (
        LocalRunner().session(limits, data=data) as session,
        run_notebook(nb, session, limits) as run,
    ):
        yield Notebook(run.bridge, context or {}), run
