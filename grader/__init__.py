"""dlgrader: grade deep-learning lab notebooks in a sandboxed kernel, judging from outside.

The package is layered; a module imports only the layers below it:
``cli`` -> ``pipeline`` -> ``runners`` / ``execute`` -> ``testing`` (+ ``bridge``)
-> ``rubric`` -> ``report``. ``probes`` and ``datasets`` also run inside the
kernel, so they import nothing from the grader's side.

``from grader import check`` gives students the in-notebook check
(:func:`grader.student.inline.check`). It is loaded on first use, so importing
``grader`` (as every kernel does for its probes) stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "check"]


def __getattr__(name: str) -> Any:
    if name == "check":
        from grader.student.inline import check

        return check
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
