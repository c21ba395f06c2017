"""Errors on held-out rows for the regression labs: the kernel predicts, the grader scores.

The tabular twin of :mod:`grader.checks.predictions`. Only the feature rows go into the
kernel, prepared as the lab states (or raw, through the notebook's own ``preprocess(X)``
when it defines one); the targets stay in the grader's process, where the error is
computed. An error is lower-is-better, so its preparation warning compares the other way
round from an accuracy's: a model that does much *worse* on the grader's rows than on the
notebook's own split was trained on rows prepared another way (classically: features
standardised with statistics that new rows do not get).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from grader.checks._common import KernelObject, as_ref, fmt_number
from grader.checks.predictions import PREPROCESS, preparation_message, reported_number
from grader.testing.fixture import Notebook

#: An error on the grader's rows at least this much above the notebook's own (both relative
#: to predicting the mean, where 1.0 is no better) *and* this many times it points at input
#: preparation. The gap keeps tiny errors from tripping the factor; the factor keeps a weak
#: model (own 1.0, grader's 1.25) from being blamed on its preparation.
PREPARATION_ERROR_GAP = 0.2
PREPARATION_ERROR_FACTOR = 1.5


def predicted_values(
    nb: Notebook,
    rows: np.ndarray,
    raw: np.ndarray,
    *,
    model: KernelObject = "model",
    function: str = "predict",
) -> np.ndarray:
    """One prediction per row from the notebook's ``function(model, X)``, as float64.

    ``rows`` are the grader's rows prepared as the lab states; ``raw`` the same rows before
    that preparation. A notebook that defines ``preprocess(X)`` gets ``raw`` through it
    instead (the result stays in the kernel), so a model trained on rows prepared its own
    way is judged as it was trained.
    """
    if len(rows) != len(raw):
        raise ValueError("rows and raw must be the same rows")
    x: Any = nb.call_keep(PREPROCESS, raw) if nb.exists(PREPROCESS) else rows
    values = nb.call(function, as_ref(nb, model), x)
    if type(values) is not np.ndarray or values.dtype.kind not in "iuf":
        raise AssertionError(
            f"{function} must return a NumPy array of numbers, not {type(values).__name__}"
        )
    if values.size != len(rows):
        raise AssertionError(f"{function} returned {values.size} values for {len(rows)} rows")
    return values.reshape(-1).astype(np.float64)


def mse_ratio(predictions: np.ndarray, targets: np.ndarray, baseline: float = 0.0) -> float:
    """Mean squared error of ``predictions`` divided by that of always predicting ``baseline``.

    With standardised targets the training mean is 0, so the ratio is 1 for a model no
    better than the mean and 1 - R^2 (up to the rows' own mean) for a useful one: a number
    without units, comparable between splits. NaN or inf predictions give inf.
    """
    errors = np.asarray(predictions, dtype=np.float64) - np.asarray(targets, dtype=np.float64)
    mse = float(np.mean(errors**2))
    reference = float(np.mean((np.asarray(targets, dtype=np.float64) - baseline) ** 2))
    if not math.isfinite(mse):
        return math.inf
    if not reference > 0:
        raise ValueError("the targets equal the baseline: no error to compare with")
    return mse / reference


def reported_error_ratio(
    nb: Notebook, error: str = "test_mse", baseline: str = "baseline_mse"
) -> float | None:
    """The notebook's own ``error / baseline`` (say its test MSE over that of predicting the
    mean, both as it reports them): comparable with :func:`mse_ratio` whatever units the
    notebook measured in. None unless both are finite numbers and the baseline is positive.
    """
    own, reference = reported_number(nb, error), reported_number(nb, baseline)
    if own is None or reference is None or not reference > 0:
        return None
    return own / reference


def expect_error_at_most(
    value: float,
    threshold: float,
    *,
    what: str = "error",
    own: float | None = None,
    inputs: str = "new rows prepared as the lab states",
) -> None:
    """``value <= threshold`` (NaN fails): an error, lower is better.

    ``own`` is the same error as the notebook reports it on its own test split. When that
    passes and the grader's does not, by far, the message names input preparation as the
    cause (:func:`expect_same_preparation_error`) instead of blaming the model.
    """
    if value <= threshold:
        return
    if own is not None and own <= threshold:
        expect_same_preparation_error(value, own, inputs=inputs)
    raise AssertionError(f"{what} {fmt_number(value)}, expected at most {fmt_number(threshold)}")


def expect_same_preparation_error(
    value: float, own: float, *, inputs: str = "new rows prepared as the lab states"
) -> None:
    """The model's error on the grader's rows is not far above its error on the notebook's
    own split (both relative to predicting the mean; NaN fails).

    Far above means at least :data:`PREPARATION_ERROR_GAP` more and
    :data:`PREPARATION_ERROR_FACTOR` times as much: a model that fits its own split and
    misses rows prepared as the lab states was trained on rows prepared another way.
    """
    close = value - own < PREPARATION_ERROR_GAP or value < PREPARATION_ERROR_FACTOR * own
    if not close:
        raise AssertionError(preparation_message(value, own, inputs))
