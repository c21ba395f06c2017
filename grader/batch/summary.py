"""The class summary: one HTML page an instructor reads after a batch.

Scores as a histogram, each criterion's pass rate across the class, the slowest and the
failed submissions, those flagged for review, the marks people gave (viva, write-up,
overrides: points, comments, who, and the marks to review), and a link to every
student's instructor report. Plots are drawn with matplotlib and embedded as PNG data,
so the page is one file that can be mailed or archived; the template autoescapes every
student string.

Writing the summary also brings the reports of students with marks up to date: a
worker writes a report from the machine's verdict alone, so after a (re)grade the
marks would otherwise be missing from the pages the summary links to.
"""

from __future__ import annotations

import base64
import io
import statistics
import threading
from dataclasses import dataclass
from pathlib import Path

import jinja2

from grader.batch.gradebook import Attempt, Choice, Gradebook
from grader.report.render import template_folders, write_reports
from grader.report.text import number
from grader.results import CriterionResult, GradingResult

SUMMARY_TEMPLATE = "summary.html.j2"
SLOWEST = 5


@dataclass(frozen=True)
class StudentRow:
    student: str
    points: float
    max_points: float
    percent: float
    seconds: float
    report: str  # relative link to the instructor report
    note: str
    marks: list[MarkCell]  # one per column of ClassSummary.marked, in order
    pending_marks: int  # manual criteria nobody has marked yet
    review: list[str]  # names of criteria whose marks are to review


@dataclass(frozen=True)
class MarkCell:
    """A person's mark on one criterion, as the summary's marks table shows it."""

    points: str  # "4 / 5", "pending", or "" (no mark: an automatic criterion)
    comment: str
    by: str
    review: bool
    override: bool


@dataclass(frozen=True)
class CriterionRate:
    name: str
    points: float
    passed: int
    graded: int  # students for whom it counted (one waiting for a GPU or a mark does not)
    manual: bool = False  # a person marks it

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


@dataclass(frozen=True)
class ClassSummary:
    assignment: str
    title: str
    rows: list[StudentRow]
    rates: list[CriterionRate]
    mean: float
    median: float
    max_points: float
    histogram: str  # data URI
    rates_chart: str  # data URI
    slowest: list[StudentRow]
    failed: list[StudentRow]
    not_gradable: list[StudentRow]  # files that are no notebook: zero rows, not scores
    not_graded: list[tuple[str, str]]  # the grader failed them: no attempt, run again
    flagged: list[tuple[StudentRow, list[str]]]
    marked: list[str]  # names of the manual criteria, then of criteria with an override
    pending_marks: int  # (student, manual criterion) pairs not marked yet
    to_review: list[StudentRow]


def build_summary(
    gradebook: Gradebook,
    assignment: str,
    out: Path,
    choose: Choice = "latest",
    not_graded: list[tuple[str, str]] | None = None,
) -> ClassSummary:
    results = gradebook.final_results(assignment, choose)
    marked = _marked_columns([r for _, r in results])
    rows = [_row(a, r, out, marked) for a, r in results]
    rates = _rates([r for _, r in results])
    percents = [row.percent for row in rows]
    title = results[0][1].assignment_title if results else assignment
    return ClassSummary(
        assignment=assignment,
        title=title,
        rows=rows,
        rates=rates,
        mean=statistics.fmean(percents) if percents else 0.0,
        median=statistics.median(percents) if percents else 0.0,
        max_points=rows[0].max_points if rows else 0.0,
        histogram=_histogram(percents),
        rates_chart=_rates_chart(rates),
        slowest=sorted(rows, key=lambda r: -r.seconds)[:SLOWEST],
        failed=[row for row, (_, r) in zip(rows, results, strict=True) if _failed(r)],
        not_gradable=[row for row, (_, r) in zip(rows, results, strict=True) if r.not_gradable],
        not_graded=list(not_graded or []),
        flagged=[(row, r.flags) for row, (_, r) in zip(rows, results, strict=True) if r.flags],
        marked=list(marked.values()),
        pending_marks=sum(row.pending_marks for row in rows),
        to_review=[row for row in rows if row.review],
    )


def write_summary(
    gradebook: Gradebook,
    assignment: str,
    out: Path,
    choose: Choice = "latest",
    templates_dir: Path | None = None,
    not_graded: list[tuple[str, str]] | None = None,
) -> Path:
    """Render ``out/summary.html`` for the class, after bringing the reports of students
    with marks up to date (:func:`refresh_reports`); returns its path."""
    refresh_reports(gradebook, assignment, templates_dir=templates_dir, choose=choose)
    summary = build_summary(gradebook, assignment, out, choose, not_graded)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in template_folders(None)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    path = out / "summary.html"
    path.write_text(env.get_template(SUMMARY_TEMPLATE).render(s=summary), encoding="utf-8")
    return path


#: Gradebook setting: the course's report templates folder, saved by ``grader mark`` so
#: that a refresh after ``grader batch`` renders with the course's own templates.
TEMPLATES_SETTING = "templates_dir"


def after_marks(
    gradebook: Gradebook, assignment: str, students: set[str], templates_dir: Path | None
) -> None:
    """After marks changed (``grader mark``, ``grader serve``): write the students'
    reports and the class summary again, so the pages on disk show the marks."""
    if templates_dir is not None:
        gradebook.set_setting(assignment, TEMPLATES_SETTING, str(templates_dir))
    refresh_reports(gradebook, assignment, students, templates_dir=templates_dir)
    write_summary(gradebook, assignment, gradebook.path.parent, templates_dir=templates_dir)


def refresh_reports(
    gradebook: Gradebook,
    assignment: str,
    students: set[str] | None = None,
    templates_dir: Path | None = None,
    choose: Choice = "latest",
) -> list[Path]:
    """Rewrite results.json and the reports of each counting attempt with its marks.

    ``students``: only these (the ones whose marks just changed, a cleared mark
    included); by default every student who has a mark. Folders that are gone are
    skipped. Returns the folders written.
    """
    if students is None:
        students = {m.student for m in gradebook.marks(assignment)}
    if not students:
        return []
    if templates_dir is None:
        saved = gradebook.setting(assignment, TEMPLATES_SETTING)
        templates_dir = Path(saved) if saved and Path(saved).is_dir() else None
    written = []
    for attempt, result in gradebook.final_results(assignment, choose):
        folder = Path(attempt.results_path).parent
        if attempt.student not in students or not folder.is_dir():
            continue
        (folder / "results.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
        write_reports(result, folder, templates_dir=templates_dir)
        written.append(folder)
    return written


def _marked_columns(results: list[GradingResult]) -> dict[str, str]:
    """Criterion id -> name: manual criteria first, then any with an override."""
    manual: dict[str, str] = {}
    overridden: dict[str, str] = {}
    for result in results:
        for c in result.criteria:
            if c.manual:
                manual.setdefault(c.id, c.name)
            elif c.mark is not None:
                overridden.setdefault(c.id, c.name)
    return {**manual, **{k: v for k, v in overridden.items() if k not in manual}}


def _mark_cell(c: CriterionResult | None) -> MarkCell:
    if c is None or (c.mark is None and not c.pending):
        return MarkCell("", "", "", False, False)
    if c.mark is None:
        return MarkCell("pending", "", "", False, False)
    m = c.mark
    points = f"{number(m.points)} / {number(c.max_points)}"
    return MarkCell(points, m.comment[:300], m.by, m.review, not c.manual)


def _failed(result: GradingResult) -> bool:
    stopped = result.execution is not None and result.execution.stopped_at_cell is not None
    return bool(result.grading_error) or stopped


def _row(attempt: Attempt, result: GradingResult, out: Path, marked: dict[str, str]) -> StudentRow:
    report = Path(attempt.results_path).parent / "report.instructor.html"
    try:
        link = report.relative_to(out).as_posix()
    except ValueError:
        link = report.as_uri() if report.is_absolute() else report.as_posix()
    note = result.grading_error or ""
    if result.not_gradable:
        note = f"not gradable: {note}"
    if not note and result.execution and result.execution.stop_reason:
        note = result.execution.stop_reason
    score = result.score  # the machine's score with the marks, not the attempt's row
    percent = 100 * score.points / score.max_points if score.max_points else 0.0
    by_id = {c.id: c for c in result.criteria}
    return StudentRow(
        student=attempt.student,
        points=score.points,
        max_points=score.max_points,
        percent=percent,
        seconds=attempt.seconds,
        report=link,
        note=note[:200],
        marks=[_mark_cell(by_id.get(cid)) for cid in marked],
        pending_marks=len(result.pending_manual),
        review=[c.name for c in result.marks_for_review],
    )


def _rates(results: list[GradingResult]) -> list[CriterionRate]:
    order: dict[str, CriterionRate] = {}
    for result in results:
        for c in result.criteria:
            old = order.get(c.id, CriterionRate(c.name, c.max_points, 0, 0, c.manual))
            counts = c.counts_toward_total and not c.pending
            order[c.id] = CriterionRate(
                old.name,
                old.points,
                old.passed + (counts and c.status == "passed"),
                old.graded + counts,
                old.manual,
            )
    return list(order.values())


def import_charts_in_background() -> threading.Thread:
    """Import matplotlib in a daemon thread; the summary's own import then finds it loaded.

    The import costs ~0.45 CPU s. A batch starts it when its first worker has nothing left
    to take, so it runs on a core that is idle while the last submissions finish, not
    after them, where an instructor waits for it.
    """
    thread = threading.Thread(target=_import_charts, name="dlgrader-charts", daemon=True)
    thread.start()
    return thread


def _import_charts() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401 - loaded now, used by write_summary


def _png(figure) -> str:  # noqa: ANN001 - a matplotlib Figure
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _histogram(percents: list[float]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 2.8))
    axes.hist(percents, bins=list(range(0, 101, 10)), color="#24508f", edgecolor="white")
    axes.set_xlabel("score (%)")
    axes.set_ylabel("students")
    axes.set_xlim(0, 100)
    axes.yaxis.get_major_locator().set_params(integer=True)
    return _png(figure)


def _rates_chart(rates: list[CriterionRate]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    height = max(1.6, 0.38 * len(rates) + 0.8)
    figure, axes = plt.subplots(figsize=(6.4, height))
    names = [r.name[:40] for r in rates][::-1]
    values = [100 * r.rate for r in rates][::-1]
    axes.barh(names, values, color="#2e8b57")
    axes.set_xlim(0, 100)
    axes.set_xlabel("students with full marks on the criterion (%)")
    return _png(figure)
