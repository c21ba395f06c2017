"""``grader add LAB``: copy one bundled lab into a course.

A lab is four parts, each where the course keeps that kind of file (its dlgrader.yaml
may rename the folders): the assignment folder (stub, assignment.yaml, public and hidden
tests, data), the marked solution, the rubric, and the example submissions with
``EXPECTED.yaml`` (what each should score), under ``examples/submissions/LAB/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from grader import bundled
from grader.course import Course
from grader.errors import ConfigError
from grader.scaffold.writing import files_under, refuse_existing

EXAMPLES = Path("examples") / "submissions"


def lab_copies(course: Course, name: str) -> list[tuple[Path, Path]]:
    """(bundled file, course file) for every file of the lab."""
    known = bundled.lab_names()
    if name not in known:
        raise ConfigError(f"no bundled lab {name!r} (bundled: {', '.join(known)})")
    source = bundled.labs_root()
    pairs = [
        (source / "solutions" / f"{name}.ipynb", course.solutions_dir / f"{name}.ipynb"),
        (source / "rubrics" / f"{name}.yaml", course.rubrics_dir / f"{name}.yaml"),
    ]
    for folder, target in (
        (source / "assignments" / name, course.assignments_dir / name),
        (source / EXAMPLES / name, course.root / EXAMPLES / name),
    ):
        if folder.is_dir():
            pairs += [(folder / f, target / f) for f in files_under(folder)]
    return pairs


def add_lab(course: Course, name: str) -> list[Path]:
    """Copy the bundled lab ``name`` into ``course``; refuse if any of its files exist."""
    pairs = lab_copies(course, name)
    refuse_existing([target for _, target in pairs], f"grader add {name}", course.root)
    for origin, target in pairs:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, target)
    return [target for _, target in pairs]
