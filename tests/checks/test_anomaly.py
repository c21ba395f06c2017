"""Anomaly-detection checks: errors measured in a real kernel, AUC and rules judged here."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from grader.checks.anomaly import (
    anomaly_detection,
    as_threshold,
    expect_auc_at_least,
    expect_threshold_rule,
    flagged_fraction,
    percentile_rule,
    reconstruction_errors,
    roc_auc,
    same_threshold,
)

CELLS = [
    """
import numpy as np
import torch
from torch import nn

class Squash(nn.Module):
    '''Reconstructs only the first half of the pixels: the rest come back as 0.'''
    def forward(self, x):
        out = x.clone()
        out[:, x.shape[1] // 2:] = 0
        return out

identity = nn.Identity()
squash = Squash()
flatten = nn.Flatten()          # (N, 4, 4) -> (N, 16): same values, another layout
shrink = nn.Linear(16, 2)       # not a reconstruction: 2 outputs for 16 inputs

def percentile_95(errors, percentile=95.0):
    return float(np.percentile(errors, percentile))

def mean_plus_3_sd(errors, percentile=95.0):
    return float(np.mean(errors) + 3 * np.std(errors))

def sorted_index(errors, percentile=95.0):
    ordered = np.sort(errors)                     # no interpolation between neighbours
    return float(ordered[int(len(ordered) * percentile / 100)])

def fixed_95(errors, percentile=95.0):
    return float(np.percentile(errors, 95))       # ignores the percentile argument

def as_tensor(errors, percentile=95.0):
    return torch.tensor(np.percentile(errors, percentile), dtype=torch.float32)
""",
]


def images(count: int = 12, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (count, 16)).astype(np.float32)


# -- no kernel: the AUC and the rules ----------------------------------------------------


def test_roc_auc_agrees_with_scikit_learn_including_ties():
    rng = np.random.default_rng(3)
    for _ in range(20):
        labels = rng.uniform(size=60) < 0.3
        scores = np.round(rng.normal(labels * 0.8, 1.0), 1)  # rounding makes many ties
        assert roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_roc_auc_extremes_and_wrong_inputs():
    labels = np.array([False, False, True, True])
    assert roc_auc([0.1, 0.2, 0.3, 0.4], labels) == 1.0
    assert roc_auc([0.4, 0.3, 0.2, 0.1], labels) == 0.0  # scores the wrong way round
    assert roc_auc([1.0, 1.0, 1.0, 1.0], labels) == 0.5  # one score for all: chance
    assert roc_auc([0.1, 0.2, np.nan, 0.4], labels) == 0.5  # NaN ranks lowest, never helps
    with pytest.raises(ValueError, match="both"):
        roc_auc([0.1, 0.2], [True, True])
    with pytest.raises(ValueError, match="labels"):
        roc_auc([0.1, 0.2, 0.3], labels)


def test_expect_auc_at_least():
    expect_auc_at_least(0.91, 0.9)
    with pytest.raises(AssertionError, match="0.5 is no better than chance"):
        expect_auc_at_least(0.62, 0.9)
    with pytest.raises(AssertionError):
        expect_auc_at_least(float("nan"), 0.9)


def test_flagged_fraction_counts_strictly_above():
    errors = np.array([0.1, 0.2, 0.3, 0.4])
    assert flagged_fraction(errors, 0.2) == 0.5
    assert flagged_fraction(errors, 0.0) == 1.0
    assert flagged_fraction(errors, float("nan")) == 0.0


def test_threshold_helpers():
    rule = percentile_rule(95)
    values = np.arange(21.0)
    assert rule(values) == 19.0
    assert same_threshold(19.0 * (1 + 1e-7), 19.0) and not same_threshold(19.1, 19.0)
    assert as_threshold(np.array([0.5], dtype=np.float32)) == 0.5
    with pytest.raises(AssertionError, match="must be a number"):
        as_threshold("0.5")


# -- a real kernel --------------------------------------------------------------------------


def test_reconstruction_errors_are_computed_here(nb):
    x = images()
    assert np.allclose(reconstruction_errors(nb, "identity", x), 0.0)
    expected = np.sum(x[:, 8:] ** 2, axis=1) / 16  # half the pixels lost, over all 16
    assert np.allclose(reconstruction_errors(nb, "squash", x), expected, rtol=1e-6)
    # The output may have another layout, as long as it has one value per input value.
    as_grid = x.reshape(-1, 4, 4)
    assert np.allclose(reconstruction_errors(nb, "flatten", as_grid), 0.0)


def test_reconstruction_errors_refuse_a_model_that_does_not_reconstruct(nb):
    with pytest.raises(AssertionError, match="one value per input value"):
        reconstruction_errors(nb, "shrink", images())


def test_anomaly_detection_scores_with_labels_kept_here(nb):
    x = images(40, seed=1)
    # Anomalies: images whose second half is bright, which "squash" reconstructs worst.
    energy = np.sum(x[:, 8:] ** 2, axis=1)
    is_anomaly = energy > np.median(energy)
    detection = anomaly_detection(nb, "squash", x, is_anomaly)
    assert detection.auc == 1.0
    assert nb.measured["auc"] == 1.0
    assert len(detection.anomaly_errors) == is_anomaly.sum()
    with pytest.raises(AssertionError, match="no better than chance"):
        expect_auc_at_least(anomaly_detection(nb, "identity", x, is_anomaly).auc, 0.9)


def test_threshold_rule_accepts_the_rule_and_names_the_usual_mistakes(nb):
    rng = np.random.default_rng(5)
    samples = [rng.gamma(2.0, 0.01, size=n) for n in (57, 200)]
    got = expect_threshold_rule(nb, "percentile_95", samples, percentile_rule(95))
    assert np.allclose(got, [np.percentile(s, 95) for s in samples])
    expect_threshold_rule(nb, "as_tensor", samples, percentile_rule(95))  # float32 passes
    with pytest.raises(AssertionError, match="mean \\+ 3 standard deviations"):
        expect_threshold_rule(nb, "mean_plus_3_sd", samples, percentile_rule(95))
    with pytest.raises(AssertionError, match="the 95th percentile is"):
        expect_threshold_rule(nb, "sorted_index", samples, percentile_rule(95))
    with pytest.raises(AssertionError, match="sample 1"):
        expect_threshold_rule(
            nb, "fixed_95", samples, percentile_rule(99), describe="the 99th", percentile=99.0
        )
