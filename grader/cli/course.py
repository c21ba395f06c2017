"""Commands for course authors: ``assign``, ``release`` and ``data``.

Registered on the main ``grader`` group by :mod:`grader.cli`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.authoring import stub_text
from grader.cli.common import console, course_option
from grader.course import find_course


@click.command("assign")
@click.argument("names", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every assignment of the course.")
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 if a committed stub differs from what would be generated.",
)
@course_option
def assign_command(names, every: bool, check: bool, course) -> None:
    """Generate the student stub of NAMES from the marked reference solution.

    Mark what students write in solutions/NAME.ipynb with '### BEGIN SOLUTION: hint' and
    '### END SOLUTION'; the stub (assignments/NAME/stub.ipynb) gets
    raise NotImplementedError("hint") there, and outputs are cleared. See docs/authoring.md.
    """
    found = find_course(course)
    names = found.assignment_names() if every else names
    if not names:
        raise click.UsageError("name an assignment, or pass --all")
    stale = []
    for name in names:
        assignment = found.assignment(name)
        text = stub_text(assignment.solution, name)
        current = assignment.stub.read_text(encoding="utf-8") if assignment.stub.is_file() else None
        if current == text:
            console.print(f"[green]✓[/] {assignment.stub} is up to date")
        elif check:
            stale.append(str(assignment.stub))
            console.print(
                f"[red]✗[/] {assignment.stub} differs from its solution; run: grader assign {name}"
            )
        else:
            assignment.stub.write_text(text, encoding="utf-8")
            console.print(f"wrote {assignment.stub}")
    sys.exit(1 if stale else 0)


@click.command("release")
@click.argument("names", nargs=-1, required=True)
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("release"),
    show_default=True,
    help="Where to write folders and zips.",
)
@course_option
def release_command(names, out: Path, course) -> None:
    """Build what students download: the stub, public tests, the public rubric, data files.

    Writes OUT/NAME/ and OUT/NAME.zip. Never contains hidden tests, the solution or hidden
    rubric text. Inside the folder, students run: grader check NAME.ipynb
    """
    from grader.release import build_release

    found = find_course(course)
    for name in names:
        assignment = found.assignment(name)
        folder, archive = build_release(assignment, out)
        console.print(f"[green]✓[/] {name}: {folder}/ and {archive}")


@click.command("data")
def data_command() -> None:
    """List the datasets the assignments use, which tier is available, and how to add one."""
    from grader import datasets

    click.echo(datasets.describe())


def register(group: click.Group) -> None:
    for command in (assign_command, release_command, data_command):
        group.add_command(command)
