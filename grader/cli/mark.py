"""``grader mark``: marks a person gives (viva, write-up) and instructor overrides.

Registered on the main ``grader`` group by :mod:`grader.cli`. Marks go into the batch's
gradebook (:mod:`grader.batch.gradebook`), beside the machine's results; the rules
(what a mark may be, the CSV file) are in :mod:`grader.marks`. After a change the
student's reports and the class summary are written again, so they show it.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.batch.gradebook import Gradebook
from grader.batch.summary import after_marks
from grader.cli.common import course_option, gradebook_option, out_dir_option
from grader.config import OUTPUT_ROOT
from grader.course import Assignment, find_course
from grader.marks import (
    Mark,
    MarkError,
    MarksFileError,
    check_mark,
    check_marks_file,
    default_marker,
    now,
    read_marks_file,
    template_csv,
)
from grader.report.text import number
from grader.results import GradingResult

console = Console(stderr=True)
out = Console()


@click.command("mark")
@click.argument("assignment_name", metavar="ASSIGNMENT", required=False)
@click.argument("student", required=False)
@click.argument("criterion", required=False)
@click.argument("points", required=False)
@click.option("--comment", default="", help="Why: shown with the mark (where the rubric lets).")
@click.option("--by", "by", help="Who gives the mark. Default: your user name.")
@click.option(
    "--from",
    "from_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Enter the marks of a CSV file (see --template); all rows or none.",
)
@click.option(
    "--template", is_flag=True, help="Write a CSV to fill in: student x manual criterion."
)
@click.option(
    "--confirm",
    is_flag=True,
    help="Keep marks flagged for review (given before the notebook changed) as they are.",
)
@click.option("--clear", is_flag=True, help="Remove a mark: pending again, or the tests' verdict.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="--template: where to write it ('-' for stdout). Default: OUT/ASSIGNMENT-marks.csv.",
)
@gradebook_option
@out_dir_option
@course_option
def mark_command(
    assignment_name,
    student,
    criterion,
    points,
    comment,
    by,
    from_file,
    template,
    confirm,
    clear,
    output,
    gradebook,
    out_dir,
    course,
) -> None:
    """Enter marks a person gives: a viva, a write-up, or an override of the tests.

    \b
    grader mark ASSIGNMENT STUDENT CRITERION POINTS [--comment TEXT]
        one mark. CRITERION is a manual criterion of the rubric (`manual: true`), or any
        other criterion to override the tests' verdict (which is kept beside it).
    grader mark ASSIGNMENT --template [-o marks.csv]
        a CSV with a row per graded student and manual criterion, the points empty and
        the rubric's levels as a hint; fill in points (and comments) and then:
    grader mark [ASSIGNMENT] --from marks.csv
        every row is checked first (student in the gradebook, criterion in the rubric,
        points a number from 0 to the maximum); one bad row and nothing is entered,
        exit code 2. Rows left blank are skipped.
    grader mark ASSIGNMENT STUDENT [CRITERION] --confirm
        a student who submitted again after being marked has their marks flagged
        "for review"; they still count. --confirm keeps them for the new notebook;
        marking again replaces them.
    grader mark ASSIGNMENT STUDENT CRITERION --clear
        remove a mark (the criterion is pending again, or back to the tests' verdict).
    grader mark ASSIGNMENT [STUDENT]
        show the marks (and a student's history of changes).

    Marks live in the gradebook of `grader batch` (OUT/gradebook.sqlite), with who gave
    them (--by, default your user name), when, and for which notebook. Regrading never
    loses them. Until a manual criterion is marked it is "pending": in the maximum, not
    yet in the points; `grader export` leaves such a student's grade out unless
    --pending partial. See docs/marks.md.
    """
    modes = [name for name, on in (("--from", from_file), ("--template", template)) if on]
    modes += [name for name, on in (("--confirm", confirm), ("--clear", clear)) if on]
    if len(modes) > 1:
        raise click.UsageError(f"{' and '.join(modes)} do different things: give one")
    if from_file is not None:
        if student is not None:
            raise click.UsageError("--from takes the students from the file: give no STUDENT")
        _from_file(assignment_name, from_file, by, gradebook, out_dir, course)
        return
    if assignment_name is None:
        raise click.UsageError("name the assignment: grader mark ASSIGNMENT ...")
    if not modes and criterion is not None and points is None:
        raise click.UsageError("give the POINTS after the criterion")
    assignment = find_course(course).assignment(assignment_name)
    path = _gradebook_path(assignment.name, gradebook, out_dir)
    with Gradebook(path) as book:
        if template:
            _template(assignment, book, output)
        elif confirm or clear:
            if student is None or (clear and criterion is None):
                need = "STUDENT CRITERION" if clear else "STUDENT [CRITERION]"
                raise click.UsageError(f"{modes[0]} needs ASSIGNMENT {need}")
            change = _confirm if confirm else _clear
            change(assignment, book, student, criterion, by or default_marker())
        elif points is not None:
            _one(assignment, book, student, criterion, points, comment, by or default_marker())
        else:
            _show(assignment, book, student)


def _gradebook_path(assignment: str, gradebook: Path | None, out_dir: Path | None) -> Path:
    if gradebook is not None and out_dir is not None:
        raise click.UsageError("give one of --gradebook and --out")
    path = gradebook or (out_dir or OUTPUT_ROOT / assignment) / "gradebook.sqlite"
    if not path.is_file():
        raise MarkError(
            f"no gradebook at {path}: grade the class first (grader batch), or pass "
            "--gradebook / --out"
        )
    return path


def _counting(book: Gradebook, assignment: Assignment) -> dict[str, GradingResult]:
    """Each student's latest attempt, marks included: what new marks are given for."""
    results = {a.student: r for a, r in book.final_results(assignment.name)}
    if not results:
        raise MarkError(f"{book.path} has no graded attempts of {assignment.name}")
    return results


def _known(results: dict[str, GradingResult], student: str, assignment: str) -> GradingResult:
    if student not in results:
        known = ", ".join(sorted(results)[:8]) + (", …" if len(results) > 8 else "")
        raise MarkError(
            f"unknown student {student!r}: not in the gradebook of {assignment} (it has: {known})"
        )
    return results[student]


def _one(assignment, book, student, criterion_id, text, comment, by) -> None:
    results = _counting(book, assignment)
    result = _known(results, student, assignment.name)
    value = check_mark(assignment.rubric, result, student, criterion_id, text)
    mark = Mark(
        assignment.name, student, criterion_id, value, comment, by, now(), result.submission.sha256
    )
    book.set_marks([mark], source="grader mark")
    _after_change(assignment, book, {student})
    before = next(c for c in result.criteria if c.id == criterion_id)
    was = "pending" if before.status == "pending" else f"{number(before.points)}"
    if before.machine is not None:
        was += f" (tests: {number(before.machine.points)})"
    out.print(
        f"{student} / {criterion_id}: {number(value)} of {number(before.max_points)} "
        f"(was {was}), by {by}",
        markup=False,
        highlight=False,
    )
    _show_totals(book, assignment, {student})


def _from_file(name, path, by, gradebook, out_dir, course) -> None:
    marks_file = read_marks_file(path)
    in_file = marks_file.assignments()
    if name is None:
        if len(in_file) != 1:
            found = ", ".join(sorted(in_file)) or "none: no assignment column"
            raise click.UsageError(
                f"name the assignment: grader mark ASSIGNMENT --from {path} (the file has: {found})"
            )
        name = in_file.pop()
    assignment = find_course(course).assignment(name)
    with Gradebook(_gradebook_path(assignment.name, gradebook, out_dir)) as book:
        results = _counting(book, assignment)
        try:
            rows = check_marks_file(marks_file, assignment.rubric, results)
        except MarksFileError as exc:
            for line in exc.problems:
                console.print(line, markup=False, highlight=False, soft_wrap=True)
            raise
        if not rows:
            console.print(f"{path}: no row has points; nothing to enter", markup=False)
            return
        who, when = by or default_marker(), now()
        marks = [
            Mark(
                assignment.name,
                r.student,
                r.criterion,
                r.points,
                r.comment,
                who,
                when,
                results[r.student].submission.sha256,
            )
            for r in rows
        ]
        book.set_marks(marks, source=str(path))
        students = {r.student for r in rows}
        _after_change(assignment, book, students)
        out.print(
            f"{len(marks)} mark(s) for {len(students)} student(s) entered from {path}",
            markup=False,
            highlight=False,
        )
        _show_totals(book, assignment, students)


def _template(assignment: Assignment, book: Gradebook, output: Path | None) -> None:
    rubric = assignment.rubric
    if not rubric.manual_criteria:
        raise MarkError(
            f"the rubric of {assignment.name} has no manual criteria (`manual: true`); "
            "overrides are entered one at a time: grader mark ASSIGNMENT STUDENT CRITERION POINTS"
        )
    results = _counting(book, assignment)
    current = {}
    for student, result in results.items():
        for c in result.criteria:
            if c.mark is not None:
                state = " (to review)" if c.mark.review else ""
                current[(student, c.id)] = f"{number(c.mark.points)} by {c.mark.by}{state}"
    text = template_csv(rubric, sorted(results), current)
    if str(output) == "-":
        click.echo(text, nl=False)
        return
    target = output or book.path.parent / f"{assignment.name}-marks.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8", newline="")
    rows = len(results) * len(rubric.manual_criteria)
    console.print(
        f"{target}: {rows} row(s) to fill in; then grader mark {assignment.name} --from {target}",
        markup=False,
        soft_wrap=True,
    )


def _confirm(assignment, book, student, criterion_id, by) -> None:
    result = _known(_counting(book, assignment), student, assignment.name)
    flagged = [c.id for c in result.marks_for_review]
    if criterion_id is not None:
        if criterion_id not in {c.id for c in result.criteria if c.mark is not None}:
            raise MarkError(f"{student} has no mark for {criterion_id!r} to confirm")
        flagged = [c for c in flagged if c == criterion_id]
    kept = book.confirm_marks(
        assignment.name, student, flagged, result.submission.sha256, by, now()
    )
    if kept:
        _after_change(assignment, book, {student})
    names = ", ".join(m.criterion for m in kept) or "nothing was flagged for review"
    out.print(f"{student}: confirmed {names}", markup=False, highlight=False)


def _clear(assignment, book, student, criterion_id, by) -> None:
    _known(_counting(book, assignment), student, assignment.name)
    if not book.clear_mark(assignment.name, student, criterion_id, by, now()):
        raise MarkError(f"{student} has no mark for {criterion_id!r} to clear")
    _after_change(assignment, book, {student})
    out.print(f"{student} / {criterion_id}: mark removed", markup=False, highlight=False)
    _show_totals(book, assignment, {student})


def _after_change(assignment: Assignment, book: Gradebook, students: set[str]) -> None:
    """Write the students' reports and the class summary again, with the marks."""
    after_marks(book, assignment.name, students, assignment.course.templates_dir)


def _show_totals(book: Gradebook, assignment: Assignment, students: set[str]) -> None:
    for student, result in sorted(_counting(book, assignment).items()):
        if student in students:
            score = result.score
            line = f"  {student}: {number(score.points)} / {number(score.max_points)}"
            if score.pending_manual_points:
                line += f", {number(score.pending_manual_points)} awaiting a mark"
            out.print(line, markup=False, highlight=False)


def _show(assignment: Assignment, book: Gradebook, student: str | None) -> None:
    results = _counting(book, assignment)
    if student is not None:
        results = {student: _known(results, student, assignment.name)}
    columns = {c.id: c.name for c in assignment.rubric.manual_criteria}
    for result in results.values():
        columns.update({c.id: c.name for c in result.criteria if c.mark is not None})
    table = Table(title=f"{assignment.name}: marks", title_justify="left")
    table.add_column("student")
    for name in columns.values():
        table.add_column(Text(name), overflow="fold")
    table.add_column("total", justify="right")
    for name, result in sorted(results.items()):
        by_id = {c.id: c for c in result.criteria}
        cells = [_cell(by_id.get(cid)) for cid in columns]
        total = f"{number(result.score.points)}/{number(result.score.max_points)}"
        table.add_row(Text(name), *map(Text, cells), total)
    out.print(table)
    if student is not None:
        for entry in book.marks_log(assignment.name, student):
            points = "" if entry["points"] is None else f" {number(entry['points'])}"
            out.print(
                f"  {entry['marked_at']} {entry['action']} {entry['criterion']}{points} by "
                f"{entry['marked_by']} ({entry['source']})",
                markup=False,
                highlight=False,
            )


def _cell(c) -> str:  # noqa: ANN001 - a CriterionResult or None
    if c is None:
        return "—"
    if c.mark is None:
        return "pending" if c.pending else "—"
    text = f"{number(c.mark.points)}/{number(c.max_points)}"
    if not c.manual and c.machine is not None:
        text += f" (tests: {number(c.machine.points)})"
    return text + (" to review" if c.mark.review else "")


def register(group: click.Group) -> None:
    group.add_command(mark_command)
