"""dlgrader: grade deep-learning lab notebooks in a sandboxed kernel, judging from outside.

The package is layered; a module imports only the layers below it:
``cli`` -> ``pipeline`` -> ``runners`` / ``execute`` -> ``testing`` (+ ``bridge``)
-> ``rubric`` -> ``report``. ``probes`` and ``datasets`` also run inside the
kernel, so they import nothing from the grader's side.
"""

__version__ = "0.1.0"
