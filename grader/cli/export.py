"""``grader export``: write a class's grades in a learning platform's format.

Registered on the main ``grader`` group by :mod:`grader.cli`. The formats themselves
live in :mod:`grader.exports`; this file only finds the grades and the output path.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import click
from rich.console import Console

from grader.cli.common import course_option, gradebook_option, out_dir_option
from grader.config import OUTPUT_ROOT
from grader.course import find_course
from grader.exports import (
    FORMATS,
    PENDING_CHOICES,
    ExportError,
    ExportOptions,
    gradebook_grades,
    results_file_grade,
    with_roster,
    write_export,
)
from grader.exports.gradescope import write_autograder

console = Console(stderr=True)


def _help() -> str:
    lines = [
        "Write grades for a learning platform from the batch gradebook.",
        "",
        "The grades come from OUT/gradebook.sqlite of `grader batch` (each student's latest",
        "attempt, or best with --choose best), or from one results.json of `grader grade`",
        "(--results). Per-student formats write -o FOLDER/STUDENT/results.json, or -o FILE.json",
        "for a single student; class formats write one file. Texts are what the student report",
        "shows: hidden criteria give feedback without details, and no test source is written.",
        "",
        "Marks people gave (grader mark: viva, write-up, overrides) are in every export. A",
        "student with points still pending (a mark not given yet, a criterion waiting for a",
        "GPU) gets no grade in canvas, moodle and csv (--pending omit, the default), or the",
        "points so far (--pending partial); the notes name them either way. The other formats",
        "show each pending criterion as pending, beside the points so far.",
        "",
        "\b",
        "Formats:",
    ]
    for fmt in FORMATS.values():
        lines.append(f"  {fmt.name}")
        lines += textwrap.wrap(
            fmt.summary,
            78,
            initial_indent=" " * 6,
            subsequent_indent=" " * 6,
            break_on_hyphens=False,
        )
    lines += [
        "",
        "\b",
        "Examples:",
        "  grader export -a lenet5 --format canvas --roster canvas_export.csv --canvas-id 4567",
        "  grader export -a lenet5 --format moodle --roster roster.csv -o lenet5_moodle.csv",
        "  grader export -a lenet5 --format gradescope-autograder -o gradescope/",
        "  grader export --format github-classroom --results out/results.json -o result.json",
        "",
        "See docs/exports.md for what each field means and how to upload it.",
    ]
    return "\n".join(lines)


@click.command("export", help=_help())
@click.option(
    "-f",
    "--format",
    "format_name",
    required=True,
    type=click.Choice(list(FORMATS)),
    help="The platform format (listed above).",
)
@click.option(
    "-a", "--assignment", "name", help="The assignment (default: the gradebook's only one)."
)
@gradebook_option
@out_dir_option
@click.option(
    "--results",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Export one results.json of `grader grade` instead of a gradebook.",
)
@click.option(
    "--choose",
    type=click.Choice(["latest", "best"]),
    default="latest",
    show_default=True,
    help="Which attempt counts when a student submitted more than once.",
)
@click.option(
    "--roster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Class CSV (an id column, and the platform's ids: Canvas ID / SIS User ID / SIS Login "
    "ID, Moodle email / idnumber / username). A Canvas gradebook export works as is.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Output file or folder ('-' for stdout). Default: OUT/exports/.",
)
@click.option(
    "--released",
    is_flag=True,
    help="The due date has passed: show after-the-due-date results on platforms that cannot "
    "hold them back themselves (all but Gradescope).",
)
@click.option(
    "--pending",
    type=click.Choice(PENDING_CHOICES),
    help="A student with pending points (a mark not given yet, a GPU criterion): no grade "
    "('omit', the default), or the points so far ('partial'). canvas, moodle and csv only.",
)
@click.option("--canvas-id", help="Canvas assignment id: the column is 'Title (id)'.")
@click.option("--title", help="The assignment's name on the platform (default: its title).")
@course_option
def export_command(
    format_name,
    name,
    gradebook,
    out_dir,
    results,
    choose,
    roster,
    output,
    released,
    pending,
    canvas_id,
    title,
    course,
) -> None:
    fmt = FORMATS[format_name]
    if pending == "omit" and not fmt.grade_table:
        raise ExportError(
            f"--format {fmt.name} shows every criterion, pending ones as pending, beside the "
            "points so far; it cannot leave the grade out (--pending is for canvas, moodle, csv)"
        )
    if fmt.layout == "autograder":
        _autograder(name, output, course)
        return
    if sum(x is not None for x in (gradebook, out_dir, results)) > 1:
        raise click.UsageError("give one of --gradebook, --out and --results")
    if results is not None:
        grades = [results_file_grade(results)]
        base = results.parent
    else:
        if gradebook is None and out_dir is None and name is None:
            raise click.UsageError("name the assignment (-a), or the gradebook (--gradebook)")
        path = gradebook or (out_dir or OUTPUT_ROOT / name) / "gradebook.sqlite"
        grades = gradebook_grades(path, name, choose)
        base = path.parent
    not_graded = 0
    if roster is not None:
        grades, not_graded = with_roster(grades, roster)
    elif fmt.needs_roster:
        raise ExportError(f"--format {fmt.name} needs --roster (the class list with its ids)")
    options = ExportOptions(
        released=released,
        canvas_id=canvas_id,
        title=title,
        roster_given=roster is not None,
        roster_path=roster,
        pending=pending or "omit",
    )
    assignment = grades[0].result.assignment if grades else (name or "assignment")
    target = output or _default_output(fmt.name, fmt.layout, fmt.suffix, base, assignment)
    written = write_export(fmt, grades, target, options)
    for note in written.notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    if not_graded:
        console.print(
            f"[yellow]note:[/] {not_graded} roster student(s) have no graded attempt and are "
            "left out",
            soft_wrap=True,
        )
    if written.paths:
        many = fmt.layout == "per_student" and len(written.paths) > 1
        where = target if many else written.paths[0]
        console.print(f"{fmt.name}: {len(grades)} student(s) written to {where}", soft_wrap=True)


def _default_output(name: str, layout: str, suffix: str, base: Path, assignment: str) -> Path:
    if layout == "per_student":
        return base / "exports" / name
    return base / "exports" / f"{assignment}-{name}{suffix}"


def _autograder(name: str | None, output: Path | None, course: Path | None) -> None:
    """Check the assignment exists in the course, then write the scripts."""
    if name is None:
        raise click.UsageError("--format gradescope-autograder needs --assignment")
    assignment = find_course(course).assignment(name)
    folder = output or OUTPUT_ROOT / assignment.name / "gradescope-autograder"
    paths = write_autograder(assignment.name, folder)
    console.print(
        f"wrote {', '.join(p.name for p in paths)} to {folder}; add course/ and a dlgrader "
        "wheel, then zip the folder's contents (docs/exports.md, Gradescope)",
        soft_wrap=True,
    )


def register(group: click.Group) -> None:
    group.add_command(export_command)
