"""Find what a student's check runs: the released bundle, its assignment, the questions.

A release (``grader release NAME``, see :mod:`grader.release`) is a small course of its
own, unzipped beside the student's notebook::

    NAME/
      NAME.ipynb                          the notebook
      assignments/NAME/tests/public/      the public tests
      rubrics/NAME.yaml                   the public criteria only
      criteria.yaml, README.md, data/

So finding it is finding a course: the folder given (``check(course=...)``), else
``$GRADER_COURSE``, else the notebook's folder or one above it; failing those, a
release unzipped one level down (Colab's ``/content/NAME/``). A *question* is a
checkable criterion: ``q1``, ``q2``, ... in rubric order, or its id.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

from grader.course import Assignment, Course, find_course
from grader.errors import ConfigError
from grader.release import questions
from grader.rubric import Criterion

#: The environment variable that names the bundle (the same one that names a course).
BUNDLE_ENV = "GRADER_COURSE"


class CheckSetupError(ConfigError):
    """The check cannot start: no bundle, an unknown question. The message says what to do."""


def find_bundle(explicit: str | Path | None = None, start: Path | None = None) -> Course:
    """The released bundle (a course) to check against; see the module's docstring."""
    here = (start or Path.cwd()).resolve()
    if explicit is not None:
        folder = Path(explicit).expanduser()
        if not folder.is_dir():
            raise CheckSetupError(f"course={str(explicit)!r}: no such folder")
        return find_course(folder)
    if os.environ.get(BUNDLE_ENV):
        return find_course()
    try:
        return find_course(start=here)
    except ConfigError:
        pass
    below = sorted(p.parent.parent for p in here.glob("*/rubrics/*.yaml"))
    below = [p for p in dict.fromkeys(below) if (p / "assignments").is_dir()]
    if len(below) == 1:
        return find_course(below[0])
    raise CheckSetupError(
        f"no released assignment found in {here}, above it or in a folder beside it. "
        "Unzip the assignment's download and open the notebook inside its folder, or say "
        "where it is: check(..., course='path/to/NAME') or the GRADER_COURSE variable"
    )


def pick_assignment(
    course: Course, name: str | None = None, notebook: Path | None = None
) -> Assignment:
    """The assignment named, else the one the notebook's metadata names, else the only one."""
    known = course.assignment_names()
    if name is None and notebook is not None:
        name = assignment_named_by(notebook)
    if name is None and len(known) == 1:
        name = known[0]
    if name is None:
        raise CheckSetupError(
            f"{course.root} holds several assignments ({', '.join(known) or 'none'}): "
            "say which, e.g. check(..., assignment='NAME')"
        )
    assignment = course.assignment(name)
    assignment.rubric  # noqa: B018 - load now, so a broken rubric is reported before any test
    return assignment


def assignment_named_by(notebook: Path) -> str | None:
    """``metadata.dlgrader.assignment`` of a saved notebook, if it has one."""
    try:
        meta = json.loads(notebook.read_text(encoding="utf-8-sig")).get("metadata", {})
        value = meta.get("dlgrader", {}).get("assignment")
    except (ValueError, OSError, AttributeError):
        return None
    return value if isinstance(value, str) and value.isidentifier() else None


def select(assignment: Assignment, which: str | None = None) -> dict[str, Criterion]:
    """``question -> criterion`` for ``which`` (``q1``, an id, or None/"all" for every one)."""
    listed = questions(assignment.rubric)
    if not listed:
        raise CheckSetupError(f"assignment {assignment.name} has no public checks")
    if which is None or which == "all":
        return listed
    key = str(which).strip()
    if key.lower() in listed:
        return {key.lower(): listed[key.lower()]}
    by_id = {c.id: q for q, c in listed.items()}
    if key in by_id:
        return {by_id[key]: listed[by_id[key]]}
    choices = ", ".join(f"{q} ({c.id})" for q, c in listed.items())
    close = difflib.get_close_matches(key, [*listed, *by_id], n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise CheckSetupError(
        f"no check '{key}' in {assignment.name}: {hint}the public checks are {choices}"
    )
