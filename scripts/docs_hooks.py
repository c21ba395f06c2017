"""MkDocs hook: show readers which command examples the documentation tests do not run.

A shell block in docs/ is preceded by a marker that ``tests/test_docs.py`` reads:

    <!-- doctest: run -->                      run in a scratch copy of the course
    <!-- doctest: run exit=3 expect="..." -->  ... and expect that exit code and text
    <!-- doctest: run needs=docker -->         run where a Docker engine and image are
    <!-- doctest: skip REASON -->              shown only: it needs what CI lacks

The run markers stay HTML comments (invisible); a skip marker becomes a visible note with
its reason, so a reader knows the block was not tested. The syntax lives in
:mod:`docs_examples`, shared with the test.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docs_examples import SKIP_MARKER  # noqa: E402


def note(match) -> str:
    reason = " ".join(match.group("reason").split()).rstrip(".")
    reason = reason[:1].upper() + reason[1:]
    return f'!!! note "Not run by the documentation tests"\n    {reason}.\n'


def on_page_markdown(markdown: str, **_: object) -> str:
    return SKIP_MARKER.sub(note, markdown)
