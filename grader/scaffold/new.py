"""``grader new NAME --framework F``: a new assignment that validates as written.

It writes the marked solution (a ``parameters`` cell, the interface cell, marked code),
the stub generated from it, ``assignment.yaml``, one public and one hidden test file, and
the rubric. Every file names the next step, so the author replaces the example piece by
piece and re-runs ``grader validate NAME``.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import yaml

from grader.authoring import stub_text
from grader.course import Course
from grader.errors import ConfigError
from grader.scaffold.templates import CONFIG_FRAMEWORK, TEMPLATES, Template
from grader.scaffold.writing import write_texts

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def new_assignment(course: Course, name: str, framework: str) -> list[Path]:
    """Write assignment ``name`` into ``course``; refuse if any of its files exist."""
    if not NAME.match(name):
        raise ConfigError(
            f"{name!r} is not an assignment name: lower-case letters, digits and _, "
            "starting with a letter"
        )
    template = TEMPLATES[framework]
    folder = course.assignments_dir / name
    solution = course.solutions_dir / f"{name}.ipynb"
    files = {
        solution: solution_notebook(name, template),
        folder / "assignment.yaml": assignment_yaml(name, template, framework),
        folder / "tests" / "public" / "test_basics.py": _test_file(name, "public", template),
        folder / "tests" / "hidden" / "test_values.py": _test_file(name, "hidden", template),
        course.rubrics_dir / f"{name}.yaml": rubric_yaml(name, template),
    }
    written = write_texts(files, f"grader new {name}", course.root)
    stub = folder / "stub.ipynb"
    if stub.exists():  # not written above: made from the solution, like grader assign does
        raise ConfigError(f"{stub} already exists; nothing more was written")
    stub.write_text(stub_text(solution, name), encoding="utf-8")
    return [*written, stub]


def solution_notebook(name: str, t: Template) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["dlgrader"] = {"assignment": name}
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["language_info"] = {"name": "python"}
    parameters = nbformat.v4.new_code_cell(
        "# Parameters: the grader may override these values when it runs your notebook.\n"
        + t.parameters
    )
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            f"# Lab: {t.title}\n\n"
            "Write your code where a cell raises `NotImplementedError`, then run every "
            f"cell.\n\n**Next step:** `grader check {name}.ipynb` runs the public tests on "
            "your notebook; hidden tests run when it is graded."
        ),
        parameters,
        nbformat.v4.new_markdown_cell(t.interface),
        nbformat.v4.new_code_cell(t.imports),
        *(nbformat.v4.new_code_cell(code.replace("{name}", name)) for code in t.code),
    ]
    return nbformat.writes(nb) + "\n"


def assignment_yaml(name: str, t: Template, framework: str) -> str:
    config = {
        "name": name,
        "title": t.title,
        "framework": CONFIG_FRAMEWORK[framework],
        "stub": "stub.ipynb",
        "limits": {"cell_timeout": 60, "notebook_timeout": 300, "memory_mb": 2048},
        "grading_parameters": {},
        "viva_questions": ["Explain one design choice in your solution."],
    }
    head = (
        f"# {name}: written by grader new (docs/reference/config.md lists every key).\n"
        f"# Next step: edit solutions/{name}.ipynb and the tests, then run\n"
        f"# `grader assign {name}` (the stub) and `grader validate {name}`.\n"
    )
    return head + yaml.safe_dump(config, sort_keys=False, width=88)


def rubric_yaml(name: str, t: Template) -> str:
    points = sum(int(p) for p in re.findall(r"^    points: (\d+)$", t.criteria, re.MULTILINE))
    return (
        f"# Rubric for {name}: criteria -> tests, points and feedback (docs/rubrics.md).\n"
        f"# Next step: name each new test here; `grader validate {name}` checks that the\n"
        "# solution gets full marks and the stub fails every student-code criterion.\n"
        f"assignment: {name}\ngpu_policy: exclude\ntotal: {points}\ncriteria:\n" + t.criteria
    )


def _test_file(name: str, kind: str, t: Template) -> str:
    who = (
        "students run these themselves with `grader check`"
        if kind == "public"
        else "only the grader runs these; they never leave the course"
    )
    head = (
        f'"""{kind.capitalize()} tests for {name}: {who}.\n\n'
        "Each test takes the `nb` fixture (the student's live kernel): it asks for values and\n"
        "judges them here, with grader.checks (docs/checks.md).\n\n"
        f"Next step: write your own tests, name them in rubrics/{name}.yaml, then run\n"
        f"`grader validate {name}`.\n"
        '"""\n\n'
    )
    return head + (t.public_test if kind == "public" else t.hidden_test)
