"""``grader batch``: grade a class's submissions in parallel, into a gradebook that resumes.

Registered on the main ``grader`` group by :mod:`grader.cli`.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from grader.batch.dispatch import Dispatcher, default_workers
from grader.batch.gradebook import Gradebook
from grader.batch.run import plan, run_batch, scratch, shared_zygote
from grader.batch.submissions import DEFAULT_PATTERN, Roster
from grader.batch.summary import import_charts_in_background, write_summary
from grader.cli.common import course_option, make_runner, runner_option, sandbox_option
from grader.config import OUTPUT_ROOT
from grader.course import find_course
from grader.logfile import route_to, unroute

console = Console(stderr=True)
#: The bar's redraws per second. rich's default (10) cost 25 CPU ms a second on a terminal
#: (9 when piped): 2.5% of a core taken from the kernels through a whole batch, for a bar
#: whose numbers change once a grading.
PROGRESS_REFRESHES_PER_S = 2


@click.command("batch")
@click.argument("submissions", type=click.Path(exists=True, path_type=Path))
@click.option("-a", "--assignment", "name", required=True, help="The assignment to grade.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=default_workers,
    show_default="half the cores, at least one per GPU",
    help="Submissions graded at once (local cluster only).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Send the work to this Dask scheduler (tcp://host:8786) instead of a local cluster.",
)
@click.option(
    "--pattern",
    default=DEFAULT_PATTERN,
    show_default=True,
    help="Regex with a group named id that finds the student id in a file or folder name, "
    r"e.g. 'lab3_(?P<id>s\d+)'.",
)
@click.option(
    "--roster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV of the class (an id column): submissions from anyone else are an error.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Output folder: one folder per student and gradebook.sqlite. "
    f"Default: {OUTPUT_ROOT}/ASSIGNMENT/",
)
@click.option("--regrade", is_flag=True, help="Grade everything again, even unchanged notebooks.")
@sandbox_option
@runner_option
@course_option
def batch_command(
    submissions, name, workers, scheduler, pattern, roster, out, regrade, sandbox, runner, course
) -> None:
    """Grade every notebook in SUBMISSIONS (a folder or a zip) for one assignment.

    SUBMISSIONS holds one notebook per student (the file name gives the id) or one folder
    per student. Results go into a gradebook (OUT/gradebook.sqlite) the moment each is
    graded: run the same command again and only new or changed notebooks are graded, so
    a batch that was stopped, even killed, carries on where it was.

    \b
    Examples:
      grader batch submissions/ -a backprop --workers 2
      grader batch class.zip -a lenet5 --roster roster.csv --pattern 'lenet5_(?P<id>s\\d+)'
      grader batch submissions/ -a lenet5 --scheduler tcp://10.0.0.5:8786
      grader batch submissions/ -a lenet5 --runner docker
    """
    assignment = find_course(course).assignment(name)
    runner = runner or assignment.course.config.runner
    make_runner(sandbox, runner, assignment.course)  # no engine or image: one line, exit 4
    out = out or OUTPUT_ROOT / assignment.name
    log = route_to(out)  # library noise and kernel output: a file, not the terminal
    click.get_current_context().call_on_close(unroute)
    with Gradebook(out / "gradebook.sqlite") as gradebook, scratch() as workdir:
        batch = plan(
            assignment,
            submissions,
            gradebook,
            workdir,
            pattern,
            Roster.read(roster) if roster else None,
            regrade,
        )
        unusable = sum(1 for s in batch.submissions if s.problem)
        console.print(
            f"{len(batch.submissions)} file(s) in, one row each: {len(batch.to_grade)} to grade"
            + (f" ({unusable} not gradable, with the reason)" if unusable else "")
            + f", {len(batch.skipped)} already in the gradebook"
        )
        not_graded: list[tuple[str, str]] = []
        closing = None
        if batch.to_grade:
            not_graded, closing = _grade(
                assignment, batch, gradebook, out, workers, scheduler, sandbox, runner
            )
        _summary(gradebook, assignment.name, out, not_graded)
        if batch.submissions:
            templates = assignment.course.templates_dir
            summary = write_summary(
                gradebook, assignment.name, out, templates_dir=templates, not_graded=not_graded
            )
            console.print(f"class summary: {summary}")
        if closing is not None:
            closing.join()
        console.print(f"library messages and kernel output: {log}")


def _grade(
    assignment, batch, gradebook, out, workers, scheduler, sandbox, runner
) -> tuple[list[tuple[str, str]], threading.Thread]:
    """Grade the batch; return the students the grader itself failed (no attempt kept),
    and the thread that is stopping the cluster meanwhile (join it before exiting)."""
    zygote = None if scheduler else shared_zygote(assignment, sandbox, runner)
    dispatcher = Dispatcher(workers, scheduler, zygote)
    batch_id = uuid.uuid4().hex
    console.print(f"grading on a {dispatcher.description}")
    total = len(batch.to_grade)
    counts = {"failed": 0}
    charts: list[threading.Thread] = []
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}  running {task.fields[running]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
        refresh_per_second=PROGRESS_REFRESHES_PER_S,
    ) as progress:
        bar = progress.add_task(assignment.name, total=total, failed=0, running=0)
        running = min(total, workers if not scheduler else total)
        progress.update(bar, running=running)

        def on_result(student, result) -> None:
            counts["failed"] += result is None or bool(result.grading_error)
            done = int(progress.tasks[0].completed) + 1
            if total - done < running and not charts:
                # A worker has nothing left to take: the summary's imports use its core.
                charts.append(import_charts_in_background())
            progress.update(
                bar, advance=1, failed=counts["failed"], running=min(running, total - done)
            )

        try:
            outcome = run_batch(
                assignment,
                batch,
                gradebook,
                out,
                dispatcher,
                sandbox,
                on_result,
                runner=runner,
                batch_id=batch_id,
            )
        except KeyboardInterrupt:
            console.print(
                "[yellow]interrupted:[/] what was graded is in the gradebook; "
                "run the same command again to carry on"
            )
            raise SystemExit(130) from None
        finally:
            for line in dispatcher.refused:
                console.print(f"[yellow]{line}[/]")
            # The workers stop (0.3-0.5 s) while the summary is written. Not a daemon: the
            # interpreter waits for it even when grading ended in an exception.
            closing = threading.Thread(
                target=_close, args=(dispatcher, runner, batch_id), name="dlgrader-close"
            )
            closing.start()
    return outcome.not_graded, closing


def _close(dispatcher: Dispatcher, runner: str, batch_id: str) -> None:
    dispatcher.close()
    if runner == "docker":
        _remove_batch_containers(batch_id)


def _remove_batch_containers(batch_id: str) -> None:
    """Containers of this batch that workers left when stopped mid-grading."""
    from grader.runners.docker import connect, remove_containers

    try:
        removed = remove_containers(connect(), batch=batch_id)
    except Exception as exc:  # noqa: BLE001 - report, but never hide the batch's own outcome
        console.print(f"[yellow]warning:[/] could not remove this batch's containers: {exc}")
        return
    if removed:
        console.print(f"removed {removed} container(s) left by stopped workers")


def _summary(
    gradebook: Gradebook, assignment: str, out: Path, not_graded: list[tuple[str, str]]
) -> None:
    final = gradebook.final_results(assignment)
    table = Table(title=f"{assignment}: {len(final) + len(not_graded)} student(s)")
    for column in ("student", "score", "attempts", "note"):
        table.add_column(column)
    for attempt, result in final:
        note = attempt.grading_error or ("flagged for review" if attempt.flagged else "")
        if result.not_gradable:
            note = f"not gradable: {note}"
        if not note and result.score.pending_manual_points:
            note = f"{result.score.pending_manual_points:g} points await a mark"
        # An error row is not a score: it is regraded by running the same command again.
        score = f"{result.score.points:g}/{result.score.max_points:g}"
        table.add_row(
            attempt.student,
            "not gradable"
            if result.not_gradable
            else ("error: regrade" if attempt.grading_error else score),
            str(len(gradebook.attempts(assignment, attempt.student))),
            note[:70],
        )
    for student, reason in not_graded:
        table.add_row(student, "-", "0", f"not graded: RETRY ({reason})"[:70])
    console.print(table)
    if not_graded:
        console.print(
            f"[yellow]{len(not_graded)} submission(s) not graded[/] because the grader failed, "
            "not the student: run the same command again to grade them"
        )
    console.print(f"gradebook: {gradebook.path}\nreports:   {out}/STUDENT/report.html")


def register(group: click.Group) -> None:
    group.add_command(batch_command)
