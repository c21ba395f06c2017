"""The files ``grader init`` writes: dlgrader.yaml, .gitignore and the course's CI.

``dlgrader.yaml`` is generated from :class:`~grader.config.CourseConfig`, so a new setting
appears in every new course with its description. Each setting is commented out with its
default (``#key: value``): delete the ``#`` to change it.
"""

from __future__ import annotations

import textwrap
from typing import Literal

import yaml
from pydantic import BaseModel

from grader import __version__
from grader.config import CourseConfig

CiKind = Literal["github", "gitlab", "none"]
CI_FILES = {"github": ".github/workflows/grader.yml", "gitlab": ".gitlab-ci.yml"}
WIDTH = 88

GITIGNORE = """\
# dlgrader: what grading writes, and what students hand in (never commit their work).
grading-output/
*.sqlite
submissions/
release/
out/
__pycache__/
.ipynb_checkpoints/
"""


def course_yaml() -> str:
    """dlgrader.yaml: every setting of CourseConfig, described, at its default."""
    lines = [
        "# dlgrader.yaml: this course's settings. Every setting is optional and shown at its",
        "# default, commented out: delete the '#' before a key to change it.",
        "# Reference: docs/reference/config.md (CourseConfig).",
        "#",
        "# Next step: grader add LAB copies a bundled lab in (grader add --list names them);",
        "# grader new NAME --framework numpy|torch|keras starts your own.",
        "",
    ]
    lines += _settings(CourseConfig, indent="")
    return "\n".join(lines).rstrip() + "\n"


def _settings(model: type[BaseModel], indent: str) -> list[str]:
    lines: list[str] = []
    defaults = model()
    for name, field in model.model_fields.items():
        description = field.description or ""
        for text in textwrap.wrap(description, WIDTH - len(indent) - 2):
            lines.append(f"{indent}# {text}")
        value = getattr(defaults, name)
        if isinstance(value, BaseModel):
            lines.append(f"#{indent}{name}:")
            lines += _settings(type(value), indent + "  ")
        else:
            lines.append(f"#{indent}{name}: {_scalar(value)}")
        lines.append("")
    return lines


def _scalar(value: object) -> str:
    text = yaml.safe_dump(value, default_flow_style=True).strip()
    return text.removesuffix("...").strip()


def ci_file(kind: CiKind) -> str:
    """The course's own CI: stubs up to date with their solutions, every assignment valid."""
    if kind == "github":
        return GITHUB.format(version=__version__)
    if kind == "gitlab":
        return GITLAB.format(version=__version__)
    raise ValueError(kind)


INSTALL = 'pip install "dlgrader[torch,keras]=={version}"'

GITHUB = (
    """\
# The course's CI (written by grader init). Next step: commit it; every push then checks
# that each stub matches its solution and that each assignment validates.
# Install dlgrader from wherever you get it (an index, or the wheel's path or URL);
# drop the [torch,keras] extras your labs do not use.
name: assignments
on: [push, pull_request]
jobs:
  validate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Sandbox (bubblewrap)
        run: sudo apt-get update -qq && sudo apt-get install -y -qq bubblewrap
      - name: Install dlgrader
        run: """
    + INSTALL
    + """
      - name: Stubs match their solutions
        run: grader assign --all --check
      - name: Solutions get full marks, stubs fail
        run: grader validate --all
"""
)

GITLAB = (
    """\
# The course's CI (written by grader init --ci gitlab). Next step: commit it; every push
# then checks that each stub matches its solution and that each assignment validates.
# Install dlgrader from wherever you get it; drop the extras your labs do not use.
validate:
  image: python:3.11
  before_script:
    - apt-get update -qq && apt-get install -y -qq bubblewrap
    - """
    + INSTALL
    + """
  script:
    - grader assign --all --check
    - grader validate --all
"""
)
