"""What the ``grader`` commands share: options, runner choice, grading one notebook, tables.

Each command module of :mod:`grader.cli` imports these; none imports another command
module or the group itself.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from grader.config import OUTPUT_ROOT
from grader.course import Assignment, Course, find_course
from grader.errors import MachineError
from grader.pipeline import GradingRun, Mode, grade, write_outputs
from grader.results import GradingResult
from grader.runners.base import Runner, RunnerUnavailable
from grader.runners.choice import RUNNER_NAMES, build_runner
from grader.runners.warm import KernelPool
from grader.student.bundle import assignment_named_by

console = Console(stderr=True)
out = Console()

STATUS_STYLE = {
    "passed": "green",
    "partial": "yellow",
    "failed": "red",
    "error": "red",
    "not_run": "magenta",
    "needs_gpu": "cyan",
    "pending": "blue",
}
STATUS_LABEL = {"needs_gpu": "needs a GPU", "not_run": "not run", "pending": "awaiting a mark"}

course_option = click.option(
    "--course",
    type=click.Path(file_okay=False, path_type=Path),
    help="Course folder (with assignments/ and rubrics/). Default: found from the current folder.",
)

sandbox_option = click.option(
    "--sandbox",
    type=click.Choice(["auto", "bubblewrap", "unshare", "none"]),
    default="auto",
    show_default=True,
    help="How the local runner confines the kernel. 'auto' picks the strongest available.",
)


gradebook_option = click.option(
    "--gradebook",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The gradebook file. Default: OUT/gradebook.sqlite.",
)
out_dir_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"The folder `grader batch -o` wrote. Default: {OUTPUT_ROOT}/ASSIGNMENT/",
)

runner_option = click.option(
    "--runner",
    type=click.Choice(RUNNER_NAMES),
    default=None,
    help="Where kernels run: 'local' (a sandboxed process) or 'docker' (a container per "
    "notebook). Default: the course's dlgrader.yaml, else local.",
)


def make_runner(
    sandbox: str = "auto",
    runner: str | None = None,
    course: Course | None = None,
    pool: KernelPool | None = None,
    warm_imports: tuple[str, ...] = (),
) -> Runner:
    """The runner a command asked for (``--runner``, else the course's setting).

    No Docker engine or no image is a :class:`MachineError` in one line, exit code 4.
    A ``pool`` starts each next kernel (importing ``warm_imports``) ahead of time.
    """
    config = course.config if course is not None else None
    name = runner or (config.runner if config else "local")
    try:
        docker = config.docker if config else None
        return build_runner(name, sandbox, docker, pool=pool, warm_imports=warm_imports)
    except RunnerUnavailable as exc:
        raise MachineError(f"--runner {name}: {exc}") from None


def assignment_for(course: Path | None, name: str | None, notebook: Path) -> Assignment:
    """The assignment NAME, or the one the notebook's metadata names; rubric loaded."""
    found = find_course(course)
    if name is None:
        name = assignment_named_by(notebook)
    if name is None:
        raise click.UsageError(
            f"{notebook}: which assignment is this? Pass --assignment NAME "
            f"(known: {', '.join(found.assignment_names()) or 'none'})"
        )
    assignment = found.assignment(name)
    assignment.rubric  # noqa: B018 - load now, so a broken rubric fails before any kernel
    return assignment


def grade_one(
    assignment: Assignment,
    notebook: Path,
    mode: Mode,
    runner: Runner,
    folder: Path | None,
    write: bool = True,
    detailed: bool = True,
) -> GradingRun:
    """Grade one notebook with a progress bar; show its table; write its outputs."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{notebook.name}: running cells", total=None)

        def on_cell(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)
            if done == total:
                progress.update(task, description=f"{notebook.name}: running tests")

        run = grade(assignment, notebook, mode=mode, runner=runner, on_cell=on_cell)
    if detailed:
        show_result(run.result)
    if write:
        folder = folder or OUTPUT_ROOT / assignment.name / notebook.stem
        paths = write_outputs(run, folder, assignment.course.templates_dir)
        report = paths.get("html", folder)
        if detailed:
            out.print(f"  report: {report}")
        else:
            score = run.result.score
            line = f"{notebook.name}: {score.points:g}/{score.max_points:g}  report: {report}"
            out.print(line, soft_wrap=True)
    return run


def show_result(result: GradingResult) -> None:
    """The criteria table and score line of one result."""
    table = Table(
        title=f"{result.submission.name} — {result.assignment_title}", title_justify="left"
    )
    table.add_column("criterion")
    table.add_column("status")
    table.add_column("points", justify="right")
    table.add_column("feedback", overflow="fold")
    for c in result.criteria:
        label = STATUS_LABEL.get(c.status, c.status)
        style = STATUS_STYLE.get(c.status, "")
        note = c.detail if c.status not in ("passed", "needs_gpu") and c.detail else c.feedback
        table.add_row(c.name, f"[{style}]{label}[/]", f"{c.points:g}/{c.max_points:g}", note)
    out.print(table)
    score = result.score
    line = f"  score: [bold]{score.points:g} / {score.max_points:g}[/] ({score.percent:.0f}%)"
    gpu_pending = score.pending_points - score.pending_manual_points
    if gpu_pending:
        line += f", {gpu_pending:g} pending a GPU"
    if score.pending_manual_points:
        line += f", {score.pending_manual_points:g} awaiting a mark (grader mark)"
    if score.excluded_points:
        line += f", {score.excluded_points:g} excluded (needs a GPU)"
    out.print(line)
    if result.execution and result.execution.errors:
        cells = ", ".join(str(e.cell) for e in result.execution.errors)
        out.print(f"  cell errors in cell(s) {cells}")
    for warning in result.warnings:
        console.print(f"  [yellow]warning:[/] {warning}")
