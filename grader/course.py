"""Find a course and load its assignments.

A course is a folder with ``assignments/``, ``solutions/`` and ``rubrics/``
(this repository is one). It is found from ``--course DIR``, else from the
``GRADER_COURSE`` variable, else by walking up from the current folder to one
that has a ``dlgrader.yaml`` or an ``assignments/`` beside a ``rubrics/``. A
``dlgrader.yaml`` may rename those folders, so an instructor's own repository
works exactly like ours.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import ValidationError

from grader.config import AssignmentConfig, CourseConfig
from grader.errors import ConfigError
from grader.rubric import Rubric, load_rubric

COURSE_FILE = "dlgrader.yaml"


@dataclass(frozen=True)
class Assignment:
    """One assignment's files, loaded and validated."""

    course: Course
    config: AssignmentConfig
    folder: Path

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def tests_root(self) -> Path:
        return self.folder / "tests"

    @property
    def stub(self) -> Path:
        return self.folder / self.config.stub

    @property
    def data_folder(self) -> Path | None:
        """``data/`` beside the stub: files the notebook opens (released with the stub)."""
        folder = self.folder / "data"
        return folder if folder.is_dir() else None

    @property
    def solution(self) -> Path:
        return self.course.solutions_dir / f"{self.name}.ipynb"

    @cached_property
    def rubric(self) -> Rubric:
        rubric = load_rubric(self.course.rubrics_dir / f"{self.name}.yaml", self.tests_root)
        if rubric.assignment != self.name:
            raise ConfigError(
                f"{self.course.rubrics_dir / (self.name + '.yaml')}: says assignment "
                f"{rubric.assignment!r}, expected {self.name!r}"
            )
        return rubric

    def test_files(self, public_only: bool = False) -> list[Path]:
        """The test files the rubric uses (public ones only for a self-check)."""
        return sorted(self.tests_root / f for f in self.rubric.test_files(public_only))


@dataclass(frozen=True)
class Course:
    root: Path
    config: CourseConfig

    @property
    def assignments_dir(self) -> Path:
        return self.root / self.config.assignments

    @property
    def solutions_dir(self) -> Path:
        return self.root / self.config.solutions

    @property
    def rubrics_dir(self) -> Path:
        return self.root / self.config.rubrics

    @property
    def templates_dir(self) -> Path | None:
        if self.config.templates:
            return self.root / self.config.templates
        default = self.root / "templates"
        return default if default.is_dir() else None

    def assignment_names(self) -> list[str]:
        if not self.assignments_dir.is_dir():
            return []
        return sorted(
            p.name for p in self.assignments_dir.iterdir() if (p / "assignment.yaml").is_file()
        )

    def assignment(self, name: str) -> Assignment:
        folder = self.assignments_dir / name
        path = folder / "assignment.yaml"
        if not path.is_file():
            known = ", ".join(self.assignment_names()) or "none"
            raise ConfigError(f"no assignment {name!r} in {self.assignments_dir} (known: {known})")
        config = _load_yaml_model(path, AssignmentConfig)
        if config.name != name:
            raise ConfigError(f"{path}: name is {config.name!r} but the folder is {name!r}")
        return Assignment(course=self, config=config, folder=folder)


def _load_yaml_model(path: Path, model):
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return model.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "top level"
        raise ConfigError(f"{path}: {where}: {err['msg']}") from None


def find_course(explicit: Path | None = None, start: Path | None = None) -> Course:
    """The course at ``explicit``, ``$GRADER_COURSE``, or above ``start`` (the cwd)."""
    given = explicit or (
        Path(os.environ["GRADER_COURSE"]) if os.environ.get("GRADER_COURSE") else None
    )
    if given is not None:
        if not given.is_dir():
            raise ConfigError(f"course folder {given} does not exist")
        return _course_at(given.resolve())
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / COURSE_FILE).is_file() or (
            (folder / "assignments").is_dir() and (folder / "rubrics").is_dir()
        ):
            return _course_at(folder)
    raise ConfigError(
        f"no course found in {here} or above: run inside a course folder "
        "(with assignments/ and rubrics/) or pass --course DIR"
    )


def _course_at(root: Path) -> Course:
    path = root / COURSE_FILE
    config = _load_yaml_model(path, CourseConfig) if path.is_file() else CourseConfig()
    return Course(root=root, config=config)
