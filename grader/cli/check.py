"""``grader check``: a student runs the public tests on their own notebook.

The notebook runs top to bottom in a fresh kernel (as grading runs it), then the
public tests; the table is the one ``check()`` shows in the notebook
(:mod:`grader.student.summary`), labelled public. ``--submit`` also verifies the file
is ready to hand in and writes it (:mod:`grader.student.submit`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import nbformat
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
from grader.course import Assignment
from grader.errors import SubmissionError, grading_error_exit_code
from grader.notebook import read_submission
from grader.release import questions
from grader.results import GradingResult
from grader.student.diagnose import (
    FRESH_RUN,
    RanCell,
    cell_errors,
    out_of_order,
    renumber,
    saved_cells,
)
from grader.student.summary import PUBLIC_LABEL, STATUS_COLOUR, CheckSummary, rows_from

#: What the runner's GPU test means when it finds none (see grader.runners.local.gpu_present).
NO_GPU = "this machine has no NVIDIA GPU"


@click.command("check")
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-a", "--assignment", "name", help="Assignment name (default: from the notebook's metadata)."
)
@click.option(
    "--submit",
    is_flag=True,
    help="Also verify the notebook is ready to hand in (right assignment, nothing renamed, "
    "runs top to bottom, size) and write NAME_submission.ipynb beside it.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --submit: where to write the file to hand in.",
)
@course_option
@runner_option
@sandbox_option
def check_command(
    notebook: Path, name, submit: bool, output: Path | None, course, runner, sandbox
) -> None:
    """Run the PUBLIC tests on your NOTEBOOK, as a student would before submitting.

    The notebook runs top to bottom in a fresh kernel, then its public tests. Hidden tests
    are not run here; they will also be run when your work is graded, so a full score here
    is not a promise of full marks. In the notebook itself: from grader import check;
    check("q1"). See docs/students.md.

    \b
    Exit codes: 0 checked (whatever the score); 1 --submit found a problem and wrote
    nothing; 2 course files wrong; 3 notebook unreadable; 4 it could not be run.
    """
    if output is not None and output.resolve() == notebook.resolve():
        raise click.UsageError(
            "--output must not be the notebook itself: it would lose its outputs"
        )
    assignment = assignment_for(course, name, notebook)
    kernel_runner = make_runner(sandbox, runner, assignment.course)
    run = grade_one(assignment, notebook, "check", kernel_runner, None, write=False, detailed=False)
    result = run.result
    try:
        nb, _raw = read_submission(notebook)
    except SubmissionError:
        nb = None  # the result's grading_error says why
    summary = summarize(result, assignment, saved_cells(nb) if nb is not None else [])
    show(summary)
    for warning in result.warnings:
        console.print(f"  [yellow]warning:[/] {escape(warning)}")
    console.print(
        "[bold yellow]Public tests only.[/] Hidden tests will also be run when your work is graded."
    )
    if result.grading_error:
        console.print(f"[red]error:[/] {escape(result.grading_error)}")
        sys.exit(grading_error_exit_code(result.grading_error))
    if submit and nb is not None:
        sys.exit(_submit(assignment, notebook, nb, result, output))


def summarize(result: GradingResult, assignment: Assignment, cells: list[RanCell]) -> CheckSummary:
    """The student's table from a check-mode result, with notes on the saved notebook."""
    ids = {c.id: q for q, c in questions(assignment.rubric).items()}
    notes = []
    stale = out_of_order(cells)
    if stale:
        notes.append(f"{stale}, by the counts saved in the file; {FRESH_RUN}")
    if result.execution is not None:
        notes += cell_errors(renumber(result.execution.errors, cells))
        if result.execution.stop_reason:
            notes.append(result.execution.stop_reason)
    return CheckSummary(
        assignment=assignment.name,
        title=assignment.config.title,
        source=result.submission.name,
        rows=rows_from(result.criteria, ids, NO_GPU),
        notes=notes,
    )


def show(summary: CheckSummary) -> None:
    """The table on stdout, notes after it."""
    table = Table(
        title=f"{escape(summary.source)} — {escape(summary.title)} [yellow]({PUBLIC_LABEL})[/]",
        title_justify="left",
    )
    table.add_column("check", no_wrap=True)
    table.add_column("criterion", ratio=1)
    table.add_column("result", no_wrap=True)
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("feedback", overflow="fold", ratio=2)
    for r in summary.rows:
        colour = STATUS_COLOUR.get(r.status, "default")
        table.add_row(
            f"{r.question} [dim]{r.id}[/]",
            escape(r.name),
            f"[{colour}]{r.label}[/]",
            f"{r.points:g}/{r.max_points:g}",
            escape(r.message),
        )
    out.print(table)
    out.print(f"  {summary.score_line()}")
    for note in summary.notes:
        out.print(f"  [yellow]note:[/] {escape(note)}")


def _submit(
    assignment: Assignment,
    notebook: Path,
    nb: nbformat.NotebookNode,
    result: GradingResult,
    output: Path | None,
) -> int:
    """Verify, and write the file to hand in when every check holds; the exit code."""
    from grader.student.submit import submission_bytes, submission_path, verify

    handed_in = submission_bytes(nb, assignment.name)
    verdicts = verify(assignment, nb, result, handed_in)
    out.print("[bold]Before you submit[/]")
    for v in verdicts:
        mark = "[green]✓[/]" if v.ok else "[red]✗[/]"
        out.print(f"  {mark} {escape(v.what)}")
        for line in v.detail.splitlines():
            out.print(f"      {escape(line)}")
    if not all(v.ok for v in verdicts):
        console.print(
            "[red]Not written:[/] fix what is marked ✗ and run grader check --submit again."
        )
        return 1
    target = submission_path(notebook, assignment.name, output)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(handed_in)
    out.print(f"  hand in: [bold]{escape(str(target))}[/] ({len(handed_in) / 1024:.0f} KiB)")
    return 0


def register(group: click.Group) -> None:
    group.add_command(check_command)
