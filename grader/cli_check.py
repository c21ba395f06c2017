"""``grader check``: a student runs the public tests on their own notebook."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli_common import assignment_for, console, grade_one, make_runner, sandbox_option
from grader.cli_course import course_option


@click.command("check")
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-a", "--assignment", "name", help="Assignment name (default: from the notebook's metadata)."
)
@course_option
@sandbox_option
def check_command(notebook: Path, name, course, sandbox) -> None:
    """Run the PUBLIC tests on your NOTEBOOK, as a student would before submitting.

    Hidden tests are not run here; they will also be run when your work is graded, so a
    full score here is not a promise of full marks.
    """
    assignment = assignment_for(course, name, notebook)
    run = grade_one(assignment, notebook, "check", make_runner(sandbox), None, write=False)
    console.print(
        "[bold yellow]Public tests only.[/] Hidden tests will also be run when your work is graded."
    )
    if run.result.grading_error:
        console.print(f"[red]error:[/] {run.result.grading_error}")
        sys.exit(3)


def register(group: click.Group) -> None:
    group.add_command(check_command)
