"""One live kernel per test module: each module lists its notebook cells in ``CELLS``.

Starting a kernel costs seconds (more with torch or TensorFlow), so the tests of
a module share one, as the ``kernel`` fixture in tests/conftest.py would give
each test its own. Cells must run cleanly: a broken fixture notebook would
otherwise show up as puzzling check failures.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grader.testing.fixture import Notebook
from grader.testing.live import live_notebook


@pytest.fixture(scope="module")
def nb(request: pytest.FixtureRequest) -> Iterator[Notebook]:
    cells = request.module.CELLS
    with live_notebook(cells) as (notebook, run):
        errors = run.execution.errors
        assert not errors, f"the test notebook failed: {errors[0]}"
        yield notebook
