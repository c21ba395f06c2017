"""Rubric loading catches mistakes early; scoring follows outcomes, bands and GPU policy."""

import math
from pathlib import Path

import pytest

from grader.errors import ConfigError
from grader.results import TestOutcome
from grader.rubric import Band, Criterion, load_rubric
from grader.scoring import score_criterion, total_score

TOY = Path(__file__).parent / "fixtures" / "toy_course"


def criterion(**overrides):
    data = {
        "id": "c",
        "name": "C",
        "points": 4,
        "tests": ["hidden/t.py::test_a"],
        "feedback": {"pass": "good", "fail": "bad"},
    }
    data.update(overrides)
    return Criterion.model_validate(data)


def outcome(name="test_a", result="passed", **kw):
    return TestOutcome(name=name, file="hidden/t.py", outcome=result, **kw)


def score(c, outcomes, gpu=False, tier="offline", policy="exclude"):
    return score_criterion(c, outcomes, gpu_available=gpu, default_policy=policy, tier=tier)


def test_toy_rubric_loads():
    rubric = load_rubric(TOY / "rubrics" / "toy.yaml", TOY / "assignments" / "toy" / "tests")
    assert rubric.max_points == 10 and len(rubric.criteria) == 5


def test_rubric_naming_a_missing_test_is_an_error(tmp_path):
    text = (TOY / "rubrics" / "toy.yaml").read_text().replace("test_add]", "test_addd]")
    (tmp_path / "toy.yaml").write_text(text)
    with pytest.raises(ConfigError, match="test_addd"):
        load_rubric(tmp_path / "toy.yaml", TOY / "assignments" / "toy" / "tests")


def test_rubric_with_unknown_key_or_bad_total_is_an_error(tmp_path):
    base = (TOY / "rubrics" / "toy.yaml").read_text()
    (tmp_path / "a.yaml").write_text(base.replace("gpu_policy: exclude", "gpu_polcy: exclude"))
    with pytest.raises(ConfigError, match="gpu_polcy"):
        load_rubric(tmp_path / "a.yaml", TOY / "assignments" / "toy" / "tests")
    (tmp_path / "b.yaml").write_text(base.replace("total: 10", "total: 12"))
    with pytest.raises(ConfigError, match="add up to 10"):
        load_rubric(tmp_path / "b.yaml", TOY / "assignments" / "toy" / "tests")


def test_pass_fail_and_error():
    assert score(criterion(), [outcome()]).points == 4
    failed = score(criterion(), [outcome(result="failed", message="61,706 != 62,006")])
    assert (failed.status, failed.points, failed.detail) == ("failed", 0, "61,706 != 62,006")
    assert failed.feedback == "bad"
    assert score(criterion(), [outcome(result="error")]).status == "error"


def test_every_test_of_a_criterion_must_pass_including_parametrized_cases():
    c = criterion()
    cases = [outcome("test_a[1]"), outcome("test_a[2]", result="failed")]
    assert score(c, cases).status == "failed"
    assert score(c, [outcome("test_a[1]"), outcome("test_a[2]")]).status == "passed"


def test_missing_outcome_is_not_run_never_a_pass():
    assert score(criterion(), []).status == "not_run"
    stopped = score(
        criterion(),
        [outcome(result="skipped", not_run=True, message="not run: the kernel stopped at cell 4")],
    )
    assert stopped.status == "not_run" and "cell 4" in stopped.detail


def test_bands_by_tier_and_nan():
    bands = {
        "offline": [{"at_least": 0.8, "fraction": 1.0}, {"at_least": 0.6, "fraction": 0.5}],
        "full": [{"at_least": 0.4, "fraction": 1.0}],
    }
    c = criterion(score_from="acc", bands=bands)
    assert score(c, [outcome(measured={"acc": 0.9})]).points == 4
    half = score(c, [outcome(result="failed", measured={"acc": 0.7})])
    assert (half.status, half.points) == ("partial", 2)
    assert score(c, [outcome(measured={"acc": 0.5})]).points == 0
    assert score(c, [outcome(measured={"acc": 0.5})], tier="full").points == 4
    assert score(c, [outcome(measured={"acc": math.nan})]).points == 0
    assert score(c, [outcome(result="failed")]).status == "failed"


def test_band_needs_one_bound():
    with pytest.raises(ValueError):
        Band(fraction=1.0)
    assert Band(at_most=0.1, fraction=1).met_by(0.05) and not Band(at_most=0.1, fraction=1).met_by(
        math.nan
    )


def test_gpu_criteria_are_excluded_or_pending_never_silent():
    c = criterion(requires_gpu=True)
    excluded = score(c, [outcome(result="skipped", needs_gpu=True)])
    assert (excluded.status, excluded.counts_toward_total, excluded.pending) == (
        "needs_gpu",
        False,
        False,
    )
    pending = score(c, [outcome(result="skipped", needs_gpu=True)], policy="pending")
    assert pending.pending and pending.counts_toward_total
    on_gpu = score(c, [outcome()], gpu=True)
    assert on_gpu.status == "passed"
    total = total_score([excluded, score(criterion(id="d"), [outcome()])])
    assert (total.points, total.max_points, total.excluded_points) == (4, 4, 4)
    total = total_score([pending, score(criterion(id="d"), [outcome()])])
    assert (total.points, total.max_points, total.pending_points) == (4, 8, 4)
