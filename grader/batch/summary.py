"""The class summary: one HTML page an instructor reads after a batch.

Scores as a histogram, each criterion's pass rate across the class, the slowest and the
failed submissions, those flagged for review, and a link to every student's instructor
report. Plots are drawn with matplotlib and embedded as PNG data, so the page is one
file that can be mailed or archived; the template autoescapes every student string.
"""

from __future__ import annotations

import base64
import io
import statistics
from dataclasses import dataclass
from pathlib import Path

import jinja2

from grader.batch.gradebook import Attempt, Choice, Gradebook
from grader.report.render import template_folders
from grader.results import GradingResult

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


@dataclass(frozen=True)
class CriterionRate:
    name: str
    points: float
    passed: int
    graded: int  # students for whom it counted (a criterion waiting for a GPU does not)

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
    flagged: list[tuple[StudentRow, list[str]]]


def build_summary(
    gradebook: Gradebook, assignment: str, out: Path, choose: Choice = "latest"
) -> ClassSummary:
    attempts = gradebook.final(assignment, choose)
    results = [(a, gradebook.result(a.id)) for a in attempts]
    rows = [_row(a, r, out) for a, r in results]
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
        flagged=[(row, r.flags) for row, (_, r) in zip(rows, results, strict=True) if r.flags],
    )


def write_summary(
    gradebook: Gradebook, assignment: str, out: Path, choose: Choice = "latest"
) -> Path:
    """Render ``out/summary.html`` for the class; returns its path."""
    summary = build_summary(gradebook, assignment, out, choose)
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


def _failed(result: GradingResult) -> bool:
    stopped = result.execution is not None and result.execution.stopped_at_cell is not None
    return bool(result.grading_error) or stopped


def _row(attempt: Attempt, result: GradingResult, out: Path) -> StudentRow:
    report = Path(attempt.results_path).parent / "report.instructor.html"
    try:
        link = report.relative_to(out).as_posix()
    except ValueError:
        link = report.as_uri() if report.is_absolute() else report.as_posix()
    note = result.grading_error or ""
    if not note and result.execution and result.execution.stop_reason:
        note = result.execution.stop_reason
    percent = 100 * attempt.points / attempt.max_points if attempt.max_points else 0.0
    return StudentRow(
        student=attempt.student,
        points=attempt.points,
        max_points=attempt.max_points,
        percent=percent,
        seconds=attempt.seconds,
        report=link,
        note=note[:200],
    )


def _rates(results: list[GradingResult]) -> list[CriterionRate]:
    order: dict[str, CriterionRate] = {}
    for result in results:
        for c in result.criteria:
            old = order.get(c.id, CriterionRate(c.name, c.max_points, 0, 0))
            counts = c.counts_toward_total and not c.pending
            order[c.id] = CriterionRate(
                old.name,
                old.points,
                old.passed + (counts and c.status == "passed"),
                old.graded + counts,
            )
    return list(order.values())


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
