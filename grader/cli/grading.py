"""The grading commands: ``grade``, ``validate`` and ``schema``.

Thin: parse, call the pipeline, show, choose the exit code (see :mod:`grader.cli`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from grader.cli.common import (
    assignment_for,
    console,
    course_option,
    grade_one,
    make_runner,
    out,
    runner_option,
    sandbox_option,
)
from grader.config import OUTPUT_ROOT
from grader.course import find_course
from grader.errors import grading_error_exit_code
from grader.logfile import route_to, unroute
from grader.results import GradingResult, json_schema
from grader.runners.warm import KernelPool
from grader.validation import validation_problems


@click.command("grade")
@click.argument(
    "notebooks",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "-a", "--assignment", "name", help="Assignment name (default: from the notebook's metadata)."
)
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Output folder. Default: {OUTPUT_ROOT}/ASSIGNMENT/NOTEBOOK/",
)
@click.option("--json", "as_json", is_flag=True, help="Also print each results document to stdout.")
@course_option
@runner_option
@sandbox_option
def grade_command(
    notebooks, name, out: Path | None, as_json: bool, course, runner, sandbox
) -> None:
    """Grade NOTEBOOKS with all tests (public and hidden); write results JSON and reports.

    Each notebook gets a folder with results.json, report.html, report.md (what the student
    sees) and report.instructor.html (measured values, viva questions).
    """
    assignment = assignment_for(course, name, notebooks[0])
    # Library noise and kernel output go to a file, not the terminal.
    log = route_to(out or OUTPUT_ROOT / assignment.name)
    click.get_current_context().call_on_close(unroute)
    many = len(notebooks) > 1
    # Several notebooks: each next kernel starts while the current one's tests run.
    pool = KernelPool() if many else None
    imports = assignment.config.imports_to_warm()
    kernel_runner = make_runner(sandbox, runner, assignment.course, pool, imports)
    results = []
    try:
        for number, notebook in enumerate(notebooks, start=1):
            if pool is not None and number == len(notebooks):
                pool.expect_more = False
            folder = out / notebook.stem if out and many else out
            run = grade_one(assignment, notebook, "grade", kernel_runner, folder, detailed=not many)
            results.append(run.result)
            if as_json:
                click.echo(run.result.model_dump_json(indent=2))
    finally:
        if pool is not None:
            pool.close()
    if len(results) > 1:
        _summary(results)
    console.print(f"library messages and kernel output: {log}")
    failed = [r for r in results if r.grading_error]
    if failed:
        error = failed[0].grading_error or ""
        console.print(
            f"[red]error:[/] {failed[0].submission.name}: {escape(error)}", soft_wrap=True
        )
        sys.exit(grading_error_exit_code(error))


@click.command("validate")
@click.argument("names", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Validate every assignment of the course.")
@course_option
@runner_option
@sandbox_option
def validate_command(names, every: bool, course, runner, sandbox) -> None:
    """Check assignments: the reference solution must get full marks, and the stub must fail
    every criterion that needs student code."""
    found = find_course(course)
    names = found.assignment_names() if every else names
    if not names:
        raise click.UsageError("name an assignment, or pass --all")
    problems = 0
    kernel_runner = make_runner(sandbox, runner, found)
    for assignment_name in names:
        assignment = found.assignment(assignment_name)
        console.rule(f"[bold]{assignment_name}")
        solution = grade_one(
            assignment, assignment.solution, "grade", kernel_runner, None, write=False
        )
        stub = grade_one(assignment, assignment.stub, "grade", kernel_runner, None, write=False)
        issues = validation_problems(assignment, solution.result, stub.result)
        for issue in issues:
            console.print(f"[red]✗[/] {issue}")
        if not issues:
            console.print(
                f"[green]✓ {assignment_name}: solution full marks, stub fails every "
                "student-code criterion"
            )
        problems += len(issues)
    sys.exit(1 if problems else 0)


@click.command("schema")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of stdout.",
)
def schema_command(output: Path | None) -> None:
    """Print the JSON Schema of the results document."""
    text = json.dumps(json_schema(), indent=2) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


# -- helpers -------------------------------------------------------------------


def _summary(results: list[GradingResult]) -> None:
    table = Table(title="summary", title_justify="left")
    table.add_column("submission")
    table.add_column("score", justify="right")
    table.add_column("failed criteria", overflow="fold")
    for r in results:
        failed = ", ".join(
            c.id for c in r.criteria if c.status not in ("passed", "needs_gpu", "pending")
        )
        table.add_row(
            r.submission.name, f"{r.score.points:g}/{r.score.max_points:g}", failed or "—"
        )
    out.print(table)


def register(group: click.Group) -> None:
    for command in (grade_command, validate_command, schema_command):
        group.add_command(command)
