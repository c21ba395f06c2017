"""Score a rubric's criteria from test outcomes: a pure function, easy to test and to
re-run from a stored results file.

A criterion that needs a GPU, graded where none exists, is never a silent zero
and never a silent pass: per the rubric it is either *excluded* (its points
leave the maximum) or *pending* (its points are withheld until graded on a GPU).
A manual criterion is *pending* until a person's mark arrives (:mod:`grader.marks`).
"""

from __future__ import annotations

from grader.results import CriterionResult, Score, TestOutcome
from grader.rubric import Criterion, GpuPolicy


def outcomes_for(node_id: str, outcomes: list[TestOutcome]) -> list[TestOutcome]:
    """Outcomes of one rubric test id; a parametrized test has one outcome per case."""
    file, _, name = node_id.partition("::")
    return [o for o in outcomes if o.file == file and o.name.split("[")[0] == name]


def score_criterion(
    criterion: Criterion,
    outcomes: list[TestOutcome],
    *,
    gpu_available: bool,
    default_policy: GpuPolicy,
    tier: str | None,
    stopped_reason: str | None = None,
    tests_did_not_run: str | None = None,
) -> CriterionResult:
    """Score one criterion from the outcomes of its tests (a manual one is pending).

    ``tests_did_not_run`` is the grader's own failure to run tests: a criterion left without
    outcomes by it is an ``error`` naming that cause, never "not run" as if the student's.
    """
    if criterion.manual:
        return pending_manual(criterion)
    assert criterion.feedback is not None  # the model requires it of automatic criteria
    own = [o for t in criterion.tests for o in outcomes_for(t, outcomes)]
    measured = {k: v for o in own for k, v in o.measured.items()}
    base = {
        "id": criterion.id,
        "name": criterion.name,
        "tests": criterion.tests,
        "max_points": criterion.points,
        "visibility": criterion.visibility,
        "requires_gpu": criterion.requires_gpu,
        "measured": measured,
    }
    needs_gpu = any(o.needs_gpu for o in own) or (criterion.requires_gpu and not gpu_available)
    if needs_gpu:
        pending = (criterion.gpu_policy or default_policy) == "pending"
        note = "pending until graded on a GPU" if pending else "excluded from the total"
        return CriterionResult(
            **base,
            status="needs_gpu",
            points=0.0,
            counts_toward_total=pending,
            pending=pending,
            feedback=f"Needs a GPU, which this grading machine lacks: {note}.",
        )
    if not own and tests_did_not_run:
        return CriterionResult(
            **base,
            status="error",
            points=0.0,
            feedback=criterion.feedback.failed,
            detail=tests_did_not_run,
        )
    if not own or any(o.not_run for o in own):
        reason = (
            next((o.message for o in own if o.not_run), "")
            or stopped_reason
            or ("its tests did not run")
        )
        return CriterionResult(
            **base,
            status="not_run",
            points=0.0,
            feedback=criterion.feedback.failed,
            detail=reason if reason.startswith("not run") else f"not run: {reason}",
        )
    failures = [o for o in own if o.outcome != "passed"]
    notes = [note for o in own for note in o.notes]
    detail = "; ".join(dict.fromkeys([*(o.message for o in failures if o.message), *notes]))
    if criterion.bands is not None:
        return _score_bands(criterion, base, measured, tier, failures, detail)
    if failures:
        errored = all(o.outcome == "error" for o in failures)
        return CriterionResult(
            **base,
            status="error" if errored else "failed",
            points=0.0,
            feedback=criterion.feedback.failed,
            detail=detail,
        )
    return CriterionResult(
        **base,
        status="passed",
        points=criterion.points,
        feedback=criterion.feedback.passed,
        detail=detail,
    )


def pending_manual(criterion: Criterion) -> CriterionResult:
    """A manual criterion before its mark: in the maximum, not yet in the points."""
    return CriterionResult(
        id=criterion.id,
        name=criterion.name,
        tests=[],
        status="pending",
        points=0.0,
        max_points=criterion.points,
        pending=True,
        manual=True,
        levels=sorted(criterion.levels or [], key=lambda lv: lv.points),
        feedback=PENDING_MARK,
        visibility=criterion.visibility,
    )


PENDING_MARK = "Not marked yet: a person marks this criterion."


def _score_bands(criterion, base, measured, tier, failures, detail) -> CriterionResult:
    bands = criterion.bands.get(tier or "offline") or criterion.bands.get("offline") or []
    value = measured.get(criterion.score_from)
    fraction = 0.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        fraction = next((b.fraction for b in bands if b.met_by(float(value))), 0.0)
        shown = f"{criterion.score_from} = {value:.4g}" + (f" ({tier} data)" if tier else "")
        detail = f"{shown}; {detail}" if detail else shown
    if fraction >= 1.0:
        status, feedback = "passed", criterion.feedback.passed
    elif fraction > 0:
        status, feedback = "partial", criterion.feedback.failed
    else:
        errored = bool(failures) and all(o.outcome == "error" for o in failures)
        status, feedback = ("error" if errored else "failed"), criterion.feedback.failed
    return CriterionResult(
        **base,
        status=status,
        points=round(criterion.points * fraction, 4),
        feedback=feedback,
        detail=detail,
    )


def total_score(criteria: list[CriterionResult]) -> Score:
    """Add up points; excluded criteria leave the maximum, pending ones are withheld
    (waiting for a GPU, or for a person's mark)."""
    counted = [c for c in criteria if c.status not in ("needs_gpu", "pending")]
    return Score(
        points=round(sum(c.points for c in counted), 4),
        max_points=round(sum(c.max_points for c in criteria if c.counts_toward_total), 4),
        pending_points=round(sum(c.max_points for c in criteria if c.pending), 4),
        pending_manual_points=round(
            sum(c.max_points for c in criteria if c.pending and c.manual), 4
        ),
        excluded_points=round(
            sum(c.max_points for c in criteria if c.status == "needs_gpu" and not c.pending), 4
        ),
    )
