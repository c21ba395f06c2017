"""Starting a course and adding to it: ``init``, ``add`` and ``new``.

The work is in :mod:`grader.scaffold`; here are the options and the messages, each
ending with the next command to run.
"""

from __future__ import annotations

from pathlib import Path

import click

from grader import bundled
from grader.cli.common import console, course_option, out
from grader.course import find_course
from grader.scaffold.course_files import CI_FILES
from grader.scaffold.init import init_course
from grader.scaffold.labs import add_lab
from grader.scaffold.new import new_assignment
from grader.scaffold.templates import TEMPLATES


def _labs(value: str | None, every: bool) -> list[str]:
    if every:
        return bundled.lab_names()
    return [n.strip() for n in (value or "").split(",") if n.strip()]


@click.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--ci",
    type=click.Choice(["github", "gitlab", "none"]),
    default="github",
    show_default=True,
    help="The course's CI: a GitHub Actions workflow, a .gitlab-ci.yml, or none. It runs "
    "grader assign --all --check and grader validate --all.",
)
@click.option("--labs", "labs", metavar="A,B", help="Bundled labs to copy in, comma-separated.")
@click.option("--all-labs", is_flag=True, help="Copy in every bundled lab.")
def init_command(folder: Path, ci: str, labs: str | None, all_labs: bool) -> None:
    """Start a course in FOLDER: dlgrader.yaml (every setting, commented), assignments/,
    solutions/, rubrics/, submissions/, a .gitignore and a CI workflow.

    Never overwrites a file. Then: cd FOLDER && grader add LAB (a bundled lab) or
    grader new NAME (your own).
    """
    course = init_course(folder, ci, _labs(labs, all_labs))  # type: ignore[arg-type]
    console.print(f"[green]✓[/] course in {course.root}")
    if ci != "none":
        console.print(
            f"  CI: {CI_FILES[ci]} (grader assign --all --check, grader validate --all)",
            soft_wrap=True,
        )
    for name in course.assignment_names():
        console.print(f"  lab: {name}")
    console.print(
        f"next: cd {folder} && grader add LAB (grader add --list shows them) "
        "or grader new NAME --framework numpy",
        soft_wrap=True,
    )


@click.command("add")
@click.argument("names", nargs=-1)
@click.option("--list", "listing", is_flag=True, help="List the bundled labs and stop.")
@course_option
def add_command(names, listing: bool, course) -> None:
    """Copy bundled labs NAMES into this course: solution, stub, tests, rubric, data and
    example submissions. Refuses, writing nothing, if any of a lab's files exist.

    grader add --list names the bundled labs.
    """
    if listing or not names:
        bundle = find_course(bundled.labs_root())
        for name in bundled.lab_names():
            out.print(f"{name:18} {bundle.assignment(name).config.title}", soft_wrap=True)
        if not listing:
            raise click.UsageError("name a lab to add (listed above)")
        return
    found = find_course(course)
    for name in names:
        written = add_lab(found, name)
        console.print(f"[green]✓[/] {name}: {len(written)} files into {found.root}")
        examples = found.root / "examples" / "submissions" / name
        console.print(
            f"next: grader validate {name}; grader grade {examples.relative_to(found.root)}/"
            f"*.ipynb -a {name}",
            soft_wrap=True,
        )


@click.command("new")
@click.argument("name")
@click.option(
    "--framework",
    type=click.Choice(sorted(TEMPLATES)),
    default="numpy",
    show_default=True,
    help="What the example solution and its tests are written with.",
)
@course_option
def new_command(name: str, framework: str, course) -> None:
    """Write a new assignment NAME that validates as written: a marked solution (a
    parameters cell, the interface, marked code), its stub, one public and one hidden
    test, a rubric and assignment.yaml. Each file names the next step.
    """
    found = find_course(course)
    written = new_assignment(found, name, framework)
    for path in written:
        console.print(f"  wrote {path.relative_to(found.root)}")
    console.print(
        f"next: grader validate {name}; then replace the example in "
        f"{written[0].relative_to(found.root)} and the tests with your lab",
        soft_wrap=True,
    )


def register(group: click.Group) -> None:
    for command in (init_command, add_command, new_command):
        group.add_command(command)
