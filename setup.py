"""Build hook: copy the report templates and the bundled labs into the package.

The repository keeps them at the top (``templates/``, ``assignments/``, ``solutions/``,
``rubrics/``, ``examples/submissions/``), where course authors edit them. A wheel must
carry them under ``grader/`` so that an installed grader finds them
(:mod:`grader.bundled`): ``grader/templates/`` and ``grader/labs/``, laid out like a
course. The sdist carries the top-level folders (MANIFEST.in), so a wheel built from it
gets the same copies. An editable install copies nothing: it reads the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: (source in the repository, destination under the package)
BUNDLE = [
    ("templates", "templates"),
    ("assignments", "labs/assignments"),
    ("solutions", "labs/solutions"),
    ("rubrics", "labs/rubrics"),
    ("examples/submissions", "labs/examples/submissions"),
]
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".pytest_cache")


class BuildWithBundle(build_py):
    """build_py, then the bundled folders copied into build/lib/grader/."""

    def run(self) -> None:
        editable = getattr(self, "editable_mode", False)
        package = Path(self.build_lib) / "grader"
        if not editable:
            # A build folder left from an earlier build may hold files deleted since.
            shutil.rmtree(package, ignore_errors=True)
        super().run()
        if editable:
            return
        for source, target in BUNDLE:
            origin = HERE / source
            if not origin.is_dir():
                raise SystemExit(f"setup.py: {origin} is missing; the wheel needs it")
            destination = package / target
            shutil.rmtree(destination, ignore_errors=True)
            shutil.copytree(origin, destination, ignore=SKIP)


setup(cmdclass={"build_py": BuildWithBundle})
