"""Held-out errors of the regression labs: predictions through the notebook's own
``preprocess(X)``, the error relative to predicting the mean, and the preparation warning,
each shown catching the wrong answer and passing correct variants."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grader.checks import (
    expect_error_at_most,
    expect_same_preparation_error,
    mse_ratio,
    predicted_values,
    reported_error_ratio,
)

#: A linear "model" fitted on standardised features (NumPy only: a fast kernel). It is
#: exact on rows standardised with the training statistics and wrong on raw rows.
CELLS = [
    """
import numpy as np

rng = np.random.default_rng(5)
RAW_TRAIN = rng.normal([50.0, 120.0, 3.0], [10.0, 30.0, 1.0], size=(200, 3))
MEAN, STD = RAW_TRAIN.mean(axis=0), RAW_TRAIN.std(axis=0)
model = {"w": np.array([0.5, -0.3, 0.8])}

def predict(model, X):
    return np.asarray(X, dtype=np.float64) @ model["w"]

def predict_list(model, X):
    return predict(model, X).tolist()

def predict_first(model, X):
    return predict(model, X)[:1]

def own_preparation(X):
    return (np.asarray(X, dtype=np.float64) - MEAN) / STD

def use_own_preparation():
    global preprocess
    preprocess = own_preparation

def drop_hook():
    global preprocess
    del preprocess

test_mse, baseline_mse, zero_baseline, text_mse = 0.5, 0.8, 0.0, "0.5"
"""
]

RNG = np.random.default_rng(11)
RAW = RNG.normal([50.0, 120.0, 3.0], [10.0, 30.0, 1.0], size=(40, 3))
WEIGHTS = np.array([0.5, -0.3, 0.8])


def lab_rows(nb) -> tuple[np.ndarray, np.ndarray]:
    """The grader's rows prepared as the lab states (the training rows' statistics) and
    their targets (exactly what the kernel's model predicts from prepared rows)."""
    mean, std = np.asarray(nb.get("MEAN")), np.asarray(nb.get("STD"))
    rows = (RAW - mean) / std
    return rows, rows @ WEIGHTS


def test_predictions_go_through_the_notebooks_preprocess(nb):
    rows, targets = lab_rows(nb)
    assert np.allclose(predicted_values(nb, rows, RAW), targets)  # no hook: the lab's rows
    nb.call("use_own_preparation")
    try:
        # The raw rows through the notebook's hook: its own preparation, the same result.
        assert np.allclose(predicted_values(nb, rows * 0, RAW), targets)
    finally:
        nb.call("drop_hook")
    with pytest.raises(ValueError, match="same rows"):
        predicted_values(nb, rows, RAW[:3])


def test_predictions_that_are_not_one_number_per_row_fail(nb):
    rows, _ = lab_rows(nb)
    with pytest.raises(AssertionError, match="predict_list must return a NumPy array"):
        predicted_values(nb, rows, RAW, function="predict_list")
    with pytest.raises(AssertionError, match="returned 1 values for 40 rows"):
        predicted_values(nb, rows, RAW, function="predict_first")


def test_mse_ratio_is_relative_to_predicting_the_mean():
    targets = np.array([-1.0, 1.0, -2.0, 2.0])
    assert mse_ratio(targets, targets) == 0.0
    assert mse_ratio(np.zeros(4), targets) == 1.0  # the mean's own prediction
    assert mse_ratio(targets / 2, targets) == pytest.approx(0.25)
    assert mse_ratio(np.array([np.nan, 0, 0, 0]), targets) == math.inf
    with pytest.raises(ValueError, match="baseline"):
        mse_ratio(np.zeros(4), np.zeros(4))


def test_raw_rows_to_a_model_trained_on_standardised_ones_are_caught(nb):
    rows, targets = lab_rows(nb)
    right = mse_ratio(predicted_values(nb, rows, RAW), targets)
    expect_same_preparation_error(right, 0.05)
    # The wrong answer: rows as the notebook prepared them never reach the model; the raw
    # ones do (a notebook that standardised its own split and did not say how).
    wrong = mse_ratio(predicted_values(nb, RAW, RAW), targets)
    with pytest.raises(AssertionError, match=r"0\.05 on your test split, .* preprocess\(x\)"):
        expect_same_preparation_error(wrong, 0.05, inputs="40 rows prepared as the lab states")


def test_preparation_warning_only_for_a_large_relative_gap():
    expect_same_preparation_error(0.40, 0.55)  # better on the grader's rows: fine
    expect_same_preparation_error(0.70, 0.55)  # a little worse: sampling, not preparation
    expect_same_preparation_error(0.04, 0.01)  # four times a tiny error: still tiny
    expect_same_preparation_error(1.25, 1.00)  # a weak model, not a preparation problem
    for value, own in ((0.90, 0.55), (0.35, 0.10), (3.0, 1.0), (math.nan, 0.5)):
        with pytest.raises(AssertionError, match="only works on inputs prepared your way"):
            expect_same_preparation_error(value, own)


def test_error_at_most_names_preparation_only_when_the_own_split_passes():
    expect_error_at_most(0.5, 0.65, own=2.0)  # passing is passing
    with pytest.raises(AssertionError, match="ratio 0.9, expected at most 0.65"):
        expect_error_at_most(0.9, 0.65, what="ratio", own=0.85)  # the model itself is weak
    with pytest.raises(AssertionError, match="ratio 0.7, expected at most 0.65"):
        expect_error_at_most(0.7, 0.65, what="ratio", own=0.6)  # close: not preparation
    with pytest.raises(AssertionError, match="0.5 on your test split, 3.2 on 89 test rows"):
        expect_error_at_most(3.2, 0.65, own=0.5, inputs="89 test rows")
    with pytest.raises(AssertionError, match="expected at most"):
        expect_error_at_most(math.nan, 0.65)


def test_reported_error_ratio_needs_two_usable_numbers(nb):
    assert reported_error_ratio(nb) == pytest.approx(0.625)  # test_mse / baseline_mse
    assert reported_error_ratio(nb, baseline="zero_baseline") is None
    assert reported_error_ratio(nb, error="text_mse") is None
    assert reported_error_ratio(nb, baseline="no_such_name") is None
