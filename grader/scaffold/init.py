"""``grader init DIR``: a new course folder, ready for ``grader add`` and ``grader new``."""

from __future__ import annotations

from pathlib import Path

from grader import bundled
from grader.course import COURSE_FILE, Course, find_course
from grader.errors import ConfigError
from grader.scaffold.course_files import CI_FILES, GITIGNORE, CiKind, ci_file, course_yaml
from grader.scaffold.labs import add_lab
from grader.scaffold.writing import refuse_existing, write_texts

FOLDERS = ("assignments", "solutions", "rubrics", "submissions")
KEEP = ".gitkeep"


def init_course(folder: Path, ci: CiKind = "github", labs: list[str] | None = None) -> Course:
    """Write the course's files into ``folder`` (made if missing), then copy ``labs`` in.

    Refuses, writing nothing, when any file it would write exists already.
    """
    folder = folder.resolve()
    files = {
        folder / COURSE_FILE: course_yaml(),
        folder / ".gitignore": GITIGNORE,
        **{folder / name / KEEP: "" for name in FOLDERS},
    }
    if ci != "none":
        files[folder / CI_FILES[ci]] = ci_file(ci)
    refuse_existing(list(files), "grader init", folder)
    names = list(dict.fromkeys(labs or []))
    known = bundled.lab_names()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"no bundled lab {', '.join(unknown)} (bundled: {', '.join(known)})")
    write_texts(files, "grader init", folder)
    course = find_course(folder)
    for name in names:
        add_lab(course, name)
    return course
