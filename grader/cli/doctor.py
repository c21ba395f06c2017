"""``grader doctor``: what this machine offers for grading, and what to install."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from grader.cli.common import course_option, out
from grader.course import find_course
from grader.errors import GraderError

STYLE = {"ok": "green", "missing": "red", "warning": "yellow", "info": "cyan"}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option(
    "--no-frameworks",
    is_flag=True,
    help="Skip importing torch and TensorFlow to ask them for GPUs (saves ~10 s).",
)
@course_option
def doctor_command(as_json: bool, no_frameworks: bool, course) -> None:
    """Report what this machine offers: sandbox tools, Docker engine and images, GPUs seen
    by the host and by the frameworks, and the dataset cache; say what to install for
    anything missing.

    Exit code 1 when the course's configured runner (dlgrader.yaml `runner:`) cannot work
    here, else 0.
    """
    from grader.doctor import as_dicts, examine

    findings = examine(frameworks=not no_frameworks)
    runner = _configured_runner(course)
    blocking = [
        f
        for f in findings
        if f.status == "missing"
        and f.area == ("docker runner" if runner == "docker" else "local runner")
    ]
    if as_json:
        click.echo(json.dumps({"runner": runner, "findings": as_dicts(findings)}, indent=2))
    else:
        table = Table(title="grader doctor", title_justify="left")
        for column in ("area", "item", "status", "found", "to fix"):
            table.add_column(column, overflow="fold")
        for f in findings:
            table.add_row(f.area, f.item, f"[{STYLE[f.status]}]{f.status}[/]", f.detail, f.fix)
        out.print(table)
        out.print(f"configured runner: {runner}" + (" (cannot work here)" if blocking else ""))
    sys.exit(1 if blocking else 0)


def _configured_runner(course) -> str:
    try:
        return find_course(course).config.runner
    except GraderError:
        return "local"


def register(group: click.Group) -> None:
    group.add_command(doctor_command)
