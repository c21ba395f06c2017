"""What one view of a report may show, decided in Python before any template runs.

Templates receive a :class:`ReportView`, never the results document itself. The
student view is built without hidden details, measured values of hidden
criteria, after-the-due-date results, test names or viva questions, so a course
that overrides the templates cannot leak them by mistake: the data is not there.
All text is cleaned here (:func:`grader.report.text.clean_text`); escaping for
HTML or Markdown is left to the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from grader.report.text import (
    LONG_TEXT_LIMIT,
    clean_text,
    measured_value,
    number,
    percent,
    relative_url,
    seconds,
)
from grader.results import CellError, CriterionResult, Figure, GradingResult, Score

View = Literal["student", "instructor"]
VIEWS: tuple[View, ...] = ("student", "instructor")

STATUS_LABELS = {
    "passed": "passed",
    "partial": "partial credit",
    "failed": "failed",
    "error": "error",
    "not_run": "not run",
    "pending": "awaiting a mark",
}
MARKED = "marked by the instructor"
ADJUSTED = "adjusted by the instructor"
CHECK_MODE_LABEL = "public tests only — hidden tests will also be run when your work is graded"
RELEASED_LATER = "released after the due date"
DATA_TIERS = {
    "full": "full data set",
    "offline": "offline data set (bundled with the grader; graded against its own thresholds)",
}
PACKAGES_SHOWN = 30


@dataclass(frozen=True)
class CriterionRow:
    name: str
    status: str  # CSS-safe key: passed, partial, failed, error, not_run, gpu_pending, ...
    status_label: str
    points: str  # "7.5 / 10", "— / 10", or "" when withheld
    feedback: str
    detail: str
    measured: list[tuple[str, str]]
    released_later: bool = False
    hidden: bool = False  # a hidden criterion: the student sees no detail
    visibility: str = "visible"
    tests: list[str] = field(default_factory=list)  # instructor view only
    marker: str = ""  # MARKED or ADJUSTED: a person gave these points
    comment: str = ""  # the marker's comment, where the student may see details
    mark_info: str = ""  # instructor view only: who marked, when, for which notebook
    review: str = ""  # instructor view only: why the mark needs another look
    machine: str = ""  # instructor view only: the verdict an override replaced
    levels: list[tuple[str, str]] = field(default_factory=list)  # instructor view only

    @property
    def has_details(self) -> bool:
        return bool(
            self.detail
            or self.measured
            or self.tests
            or self.comment
            or self.mark_info
            or self.machine
            or self.levels
        )


@dataclass(frozen=True)
class ErrorView:
    cell: int
    execution_count: int | None
    ename: str
    evalue: str
    traceback: str
    source: str


@dataclass(frozen=True)
class FigureView:
    cell: int
    src: str | None  # None: the path was not a safe relative path, so no <img>
    width: int
    height: int


@dataclass(frozen=True)
class ScoreView:
    points: str
    max_points: str
    percent: str
    pending_points: str  # waiting for a GPU; "" when none
    pending_mark_points: str  # waiting for a person's mark (viva, write-up); "" when none
    excluded_points: str
    released_later_count: int
    released_later_points: str


@dataclass(frozen=True)
class ReportView:
    view: View
    is_instructor: bool
    title: str
    assignment: str
    submission_name: str
    graded_at: str
    check_mode: bool
    check_mode_label: str
    data_tier: str
    score: ScoreView
    criteria: list[CriterionRow]
    grading_error: str
    cells_total: int | None
    cells_run: int | None
    execution_time: str
    stopped_at_cell: int | None
    stop_reason: str
    skipped_cells: list[tuple[int, str]]
    errors: list[ErrorView]
    figures: list[FigureView]
    warnings: list[str]
    environment: list[tuple[str, str]]
    timings: list[tuple[str, str]]
    viva_questions: list[str]
    flags: list[str]  # instructor view only: signs of tampering, a misfiled notebook
    submission_details: list[tuple[str, str]]  # instructor view only


def build_view(result: GradingResult, view: View) -> ReportView:
    """The report's content for one audience; ``view`` is "student" or "instructor"."""
    if view not in VIEWS:
        raise ValueError(f"unknown report view {view!r}; use one of {', '.join(VIEWS)}")
    instructor = view == "instructor"
    execution = result.execution
    return ReportView(
        view=view,
        is_instructor=instructor,
        title=clean_text(result.assignment_title),
        assignment=clean_text(result.assignment),
        submission_name=clean_text(result.submission.name),
        graded_at=clean_text(result.graded_at),
        check_mode=result.mode == "check",
        check_mode_label=CHECK_MODE_LABEL,
        data_tier=clean_text(DATA_TIERS.get(result.data_tier or "", result.data_tier or "")),
        score=_score(result, instructor),
        criteria=[_criterion(c, instructor) for c in result.criteria],
        grading_error=clean_text(result.grading_error or "", LONG_TEXT_LIMIT),
        cells_total=execution.cells_total if execution else None,
        cells_run=execution.cells_run if execution else None,
        execution_time=seconds(execution.duration_s) if execution else "",
        stopped_at_cell=execution.stopped_at_cell if execution else None,
        stop_reason=clean_text(execution.stop_reason or "") if execution else "",
        skipped_cells=[(c.cell, clean_text(c.reason)) for c in execution.skipped_cells]
        if execution
        else [],
        errors=[_error(e) for e in execution.errors] if execution else [],
        figures=[_figure(f) for f in execution.figures] if execution else [],
        warnings=[clean_text(w) for w in result.warnings],
        environment=_environment(result),
        timings=[
            ("Total", seconds(result.timings.total_s)),
            ("Running the notebook", seconds(result.timings.execute_s)),
            ("Running the tests", seconds(result.timings.tests_s)),
        ],
        viva_questions=[clean_text(q) for q in result.viva_questions] if instructor else [],
        flags=[clean_text(f) for f in result.flags] if instructor else [],
        submission_details=_submission_details(result) if instructor else [],
    )


def _status(c: CriterionResult) -> tuple[str, str]:
    if c.mark is not None and c.status == "failed":
        return "failed", "marked 0"  # a person's zero is a mark, not a failed test
    if c.status == "needs_gpu":
        if c.pending:
            return "gpu_pending", "needs a GPU (pending)"
        return "gpu_excluded", "needs a GPU (excluded)"
    return c.status, STATUS_LABELS[c.status]


def _points(c: CriterionResult) -> str:
    if c.status == "pending":
        return f"— / {number(c.max_points)}"
    if c.status == "needs_gpu":
        return (
            f"— / {number(c.max_points)}" if c.pending else f"— ({number(c.max_points)} excluded)"
        )
    return f"{number(c.points)} / {number(c.max_points)}"


def _criterion(c: CriterionResult, instructor: bool) -> CriterionRow:
    name = clean_text(c.name)
    if c.visibility == "after_due_date" and not instructor:
        return CriterionRow(
            name=name,
            status="released_later",
            status_label=RELEASED_LATER,
            points="",
            feedback="",
            detail="",
            measured=[],
            released_later=True,
            visibility=c.visibility,
        )
    status, label = _status(c)
    hide_detail = c.visibility == "hidden" and not instructor
    mark = c.mark
    return CriterionRow(
        name=name,
        status=status,
        status_label=label,
        points=_points(c),
        feedback=clean_text(c.feedback),
        detail="" if hide_detail else clean_text(c.detail, LONG_TEXT_LIMIT),
        measured=[] if hide_detail else _measured(c),
        hidden=hide_detail,
        visibility=c.visibility,
        tests=[clean_text(t) for t in c.tests] if instructor else [],
        marker=(MARKED if c.manual else ADJUSTED) if mark else "",
        comment="" if hide_detail or mark is None else clean_text(mark.comment, LONG_TEXT_LIMIT),
        mark_info=_mark_info(c) if instructor else "",
        review=_review(c) if instructor else "",
        machine=_machine(c) if instructor else "",
        levels=[(number(lv.points), clean_text(lv.text)) for lv in c.levels] if instructor else [],
    )


def _mark_info(c: CriterionResult) -> str:
    if c.mark is None:
        return ""
    m = c.mark
    return clean_text(
        f"{number(m.points)} given by {m.by} at {m.at}, for the notebook {m.sha256[:12]}"
    )


def _review(c: CriterionResult) -> str:
    if c.mark is None or not c.mark.review:
        return ""
    return (
        "For review: the mark was given for another version of the notebook (or above "
        "today's maximum). It still counts; confirm it with grader mark --confirm, or "
        "mark again."
    )


def _machine(c: CriterionResult) -> str:
    if c.machine is None:
        return ""
    v = c.machine
    label = STATUS_LABELS.get(v.status, v.status.replace("_", " "))
    text = f"The tests said: {label}, {number(v.points)} / {number(c.max_points)}. {v.feedback}"
    return clean_text(f"{text} {v.detail}".strip(), LONG_TEXT_LIMIT)


def _measured(c: CriterionResult) -> list[tuple[str, str]]:
    return [(clean_text(k, 100), measured_value(v)) for k, v in list(c.measured.items())[:20]]


def _score(result: GradingResult, instructor: bool) -> ScoreView:
    """The score, less what the student may not see yet (after-the-due-date criteria).

    Showing the full total while hiding those criteria would let a student work
    out their points by subtraction, so the student view leaves them out of every
    figure and says how many points are still to be released.
    """
    later = [] if instructor else [c for c in result.criteria if c.visibility == "after_due_date"]
    shown = _minus(result.score, later)
    gpu_pending = shown.pending_points - shown.pending_manual_points
    return ScoreView(
        points=number(shown.points),
        max_points=number(shown.max_points),
        percent=percent(shown.percent),
        pending_points=number(gpu_pending) if gpu_pending > 1e-9 else "",
        pending_mark_points=(
            number(shown.pending_manual_points) if shown.pending_manual_points > 0 else ""
        ),
        excluded_points=number(shown.excluded_points) if shown.excluded_points > 0 else "",
        released_later_count=len(later),
        released_later_points=number(sum(c.max_points for c in later)),
    )


def _minus(score: Score, criteria: list[CriterionResult]) -> Score:
    """``score`` without the criteria given, by the rules that add a score up.

    Points come from criteria that are not pending or excluded; the maximum counts
    every criterion that counts toward the total (pending ones included); pending and
    excluded points are the maxima of those criteria.
    """
    if not criteria:
        return score
    gpu = [c for c in criteria if c.status == "needs_gpu"]
    waiting = ("needs_gpu", "pending")
    return Score(
        points=max(0.0, score.points - sum(c.points for c in criteria if c.status not in waiting)),
        max_points=max(
            0.0, score.max_points - sum(c.max_points for c in criteria if c.counts_toward_total)
        ),
        pending_points=max(
            0.0, score.pending_points - sum(c.max_points for c in criteria if c.pending)
        ),
        pending_manual_points=max(
            0.0,
            score.pending_manual_points
            - sum(c.max_points for c in criteria if c.pending and c.manual),
        ),
        excluded_points=max(
            0.0, score.excluded_points - sum(c.max_points for c in gpu if not c.pending)
        ),
    )


def _error(e: CellError) -> ErrorView:
    return ErrorView(
        cell=e.cell,
        execution_count=e.execution_count,
        ename=clean_text(e.ename, 200),
        evalue=clean_text(e.evalue),
        traceback=clean_text(e.traceback, LONG_TEXT_LIMIT),
        source=clean_text(e.source),
    )


def _figure(f: Figure) -> FigureView:
    return FigureView(cell=f.cell, src=relative_url(f.path), width=f.width, height=f.height)


def _environment(result: GradingResult) -> list[tuple[str, str]]:
    env = result.environment
    sandbox = env.sandbox if env.sandbox != "none" else "none (student code was not isolated)"
    rows = [
        ("Python", env.python),
        ("Platform", env.platform),
        ("Grader version", env.grader_version),
        ("Device", env.device + ("" if env.gpu_available else " (no GPU available)")),
        ("Runner", env.runner),
        ("Sandbox", sandbox),
        ("Network blocked", "yes" if env.network_blocked else "no"),
        ("Private file system", "yes" if env.filesystem_private else "no"),
    ]
    if env.memory_limit_mb is not None:
        rows.append(("Memory limit", f"{env.memory_limit_mb:,} MB"))
    if env.cpu_limit_s is not None:
        rows.append(("CPU time limit", f"{env.cpu_limit_s:,} s"))
    for name, version in sorted(env.packages.items())[:PACKAGES_SHOWN]:
        rows.append((name, version))
    return [(clean_text(k, 100), clean_text(v, 300)) for k, v in rows]


def _submission_details(result: GradingResult) -> list[tuple[str, str]]:
    sub = result.submission
    rows = [
        ("Assignment id", result.assignment),
        ("Submission path", sub.path),
        ("SHA-256", sub.sha256),
        ("Size", f"{sub.size_bytes:,} bytes"),
        ("Schema version", result.schema_version),
    ]
    return [(k, clean_text(v, 500)) for k, v in rows]
