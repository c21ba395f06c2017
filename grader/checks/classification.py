"""Classification metrics a student writes: a confusion matrix, per-class precision and recall.

The grader calls the student's functions in the kernel on inputs it chooses, with the cases
that break naive code (a class that is never predicted, a class absent from the labels,
labels that stop short of ``n_classes - 1``), and compares what comes back with its own
NumPy reference here. The conventions are scikit-learn's:

* ``matrix[i, j]`` counts the examples of true class ``i`` predicted as class ``j``;
* ``precision[k] = matrix[k, k] / matrix[:, k].sum()`` (of what was predicted as k),
  ``recall[k] = matrix[k, k] / matrix[k, :].sum()`` (of what truly is k);
* 0/0 is defined as 0.0 (:data:`ZERO_DIVISION`): a class never predicted has precision 0,
  a class with no examples has recall 0, as ``sklearn.metrics`` gives with
  ``zero_division=0``. NaN is never an accepted answer.

:func:`classification_report` computes the same numbers from a model's predictions (from
the kernel) and labels (the grader's), to judge what a notebook reports about itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks._common import fmt_number
from grader.testing.fixture import Notebook

#: The value of precision or recall when its denominator is 0 (the lab's contract).
ZERO_DIVISION = 0.0


# -- the grader's references -------------------------------------------------------------


def reference_confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int
) -> np.ndarray:
    """(n_classes, n_classes) int64 counts: row = true class, column = predicted class."""
    true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    pred = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    if true.shape != pred.shape:
        raise ValueError(f"{true.size} labels but {pred.size} predictions")
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (true, pred), 1)
    return matrix


def reference_precision_recall(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision (over columns) and recall (over rows); 0/0 is ZERO_DIVISION."""
    counts = np.asarray(matrix, dtype=np.float64)
    hits = np.diag(counts)
    predicted, actual = counts.sum(axis=0), counts.sum(axis=1)
    precision = np.full(len(hits), ZERO_DIVISION)
    recall = np.full(len(hits), ZERO_DIVISION)
    np.divide(hits, predicted, out=precision, where=predicted > 0)
    np.divide(hits, actual, out=recall, where=actual > 0)
    return precision, recall


@dataclass(frozen=True)
class ClassificationReport:
    """What the grader computes from a model's predictions and the labels it holds."""

    accuracy: float
    matrix: np.ndarray
    precision: np.ndarray
    recall: np.ndarray


def classification_report(
    predictions: np.ndarray, labels: np.ndarray, n_classes: int
) -> ClassificationReport:
    """Accuracy, confusion matrix, precision and recall of ``predictions`` against ``labels``."""
    matrix = reference_confusion_matrix(labels, predictions, n_classes)
    precision, recall = reference_precision_recall(matrix)
    total = int(matrix.sum())
    if total == 0:
        raise ValueError("no labels to compute a report on")
    return ClassificationReport(float(np.trace(matrix)) / total, matrix, precision, recall)


# -- reading what the student's code returned --------------------------------------------


def numeric_array(value: Any, what: str) -> np.ndarray:
    """A float64 copy of an array or nested list of numbers the kernel sent, else a failure."""
    if type(value) is np.ndarray:
        array = value
    elif type(value) in (list, tuple):
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):
            raise AssertionError(f"{what} is not an array of numbers") from None
    elif type(value) in (int, float):
        array = np.asarray(value)
    else:
        raise AssertionError(
            f"{what} is a {type(value).__name__}, expected a NumPy array of numbers"
        )
    if array.dtype.kind not in "iuf":
        raise AssertionError(f"{what} is not an array of numbers (dtype {array.dtype})")
    return array.astype(np.float64)


def student_confusion_matrix(
    nb: Notebook,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    n_classes: int,
    *,
    function: str = "confusion_matrix",
) -> np.ndarray:
    """Call the notebook's ``function(y_true, y_pred, n_classes)``; its result as floats."""
    raw = nb.call(
        function, np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64), int(n_classes)
    )
    return numeric_array(raw, f"{function}(...)")


def student_precision_recall(
    nb: Notebook, matrix: np.ndarray, *, function: str = "precision_recall"
) -> tuple[np.ndarray, np.ndarray]:
    """Call the notebook's ``function(matrix)``, which returns ``(precision, recall)``."""
    raw = nb.call(function, np.asarray(matrix, np.int64))
    if type(raw) not in (list, tuple) or len(raw) != 2:
        raise AssertionError(
            f"{function}(matrix) must return two arrays, (precision, recall); "
            f"it returned a {type(raw).__name__}"
        )
    return (
        numeric_array(raw[0], f"the precision from {function}"),
        numeric_array(raw[1], f"the recall from {function}"),
    )


# -- judging -----------------------------------------------------------------------------


def _same(a: np.ndarray, b: np.ndarray, atol: float) -> bool:
    """Equal shapes and every entry within ``atol`` (NaN never equal)."""
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol))


def expect_matrix_equal(got: np.ndarray, expected: np.ndarray, *, what: str) -> None:
    """A confusion matrix equal to the reference, with the usual mistakes named."""
    n = expected.shape[0]
    if got.shape != expected.shape:
        raise AssertionError(
            f"{what} has shape {got.shape}, expected ({n}, {n}): one row and one column per "
            "class, even for classes that never occur in the labels or the predictions"
        )
    if _same(got, expected, 0.0):
        return
    if _same(got, expected.T, 0.0):
        raise AssertionError(
            f"{what} is transposed: rows must be the true classes and columns the predicted ones"
        )
    total, expected_total = float(np.nansum(got)), float(expected.sum())
    if total != expected_total:
        raise AssertionError(
            f"{what} adds up to {fmt_number(total)}, expected {expected_total:g}: "
            "each example counts once, in the cell [true class, predicted class]"
        )
    i, j = np.unravel_index(int(np.argmax(np.abs(got - expected))), expected.shape)
    raise AssertionError(
        f"{what}[{i}, {j}] (true class {i}, predicted as {j}) is {fmt_number(float(got[i, j]))}, "
        f"expected {int(expected[i, j])}"
    )


def expect_confusion_matrix(
    got: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, n_classes: int
) -> None:
    """The student's matrix for these labels and predictions equals the reference's."""
    expected = reference_confusion_matrix(y_true, y_pred, n_classes)
    expect_matrix_equal(got, expected, what=f"confusion_matrix(y_true, y_pred, {n_classes})")


def _zero_division_nan(got: np.ndarray, denominators: np.ndarray) -> int | None:
    """The first class whose 0/0 came back as NaN or inf, if any."""
    bad = np.flatnonzero(~np.isfinite(got) & (denominators == 0))
    return int(bad[0]) if bad.size else None


def expect_rates(
    got: np.ndarray,
    expected: np.ndarray,
    denominators: np.ndarray,
    *,
    what: str,
    zero_case: str,
    atol: float = 1e-6,
) -> None:
    """Per-class rates equal to the reference (NaN fails), with 0/0 and percentages named."""
    if got.shape != expected.shape:
        raise AssertionError(
            f"{what} has shape {got.shape}, expected ({expected.size},): one value per class"
        )
    if _same(got, expected, atol):
        return
    nan_class = _zero_division_nan(got, denominators)
    if nan_class is not None:
        raise AssertionError(
            f"{what} of class {nan_class} is {got[nan_class]}: {zero_case}, so it is 0/0, "
            f"which this lab defines as {ZERO_DIVISION:g}"
        )
    if _same(got, 100 * expected, 100 * atol):
        raise AssertionError(f"{what} is in percent: give fractions in [0, 1]")
    k = int(np.argmax(np.where(np.isfinite(got), np.abs(got - expected), np.inf)))
    raise AssertionError(
        f"{what} of class {k} is {fmt_number(float(got[k]))}, "
        f"expected {fmt_number(float(expected[k]))}"
    )


def expect_precision_recall(
    got: tuple[np.ndarray, np.ndarray], matrix: np.ndarray, *, atol: float = 1e-6
) -> None:
    """``(precision, recall)`` for ``matrix`` equal to the reference's, 0/0 included."""
    counts = np.asarray(matrix, dtype=np.float64)
    precision, recall = reference_precision_recall(counts)
    got_precision, got_recall = got
    if (
        not _same(got_precision, precision, atol)
        and _same(got_precision, recall, atol)
        and _same(got_recall, precision, atol)
    ):
        raise AssertionError(
            "precision and recall are swapped: precision divides by what was predicted as "
            "the class (a column sum), recall by what truly is the class (a row sum)"
        )
    expect_rates(
        got_precision,
        precision,
        counts.sum(axis=0),
        what="precision",
        zero_case="nothing was predicted as that class",
        atol=atol,
    )
    expect_rates(
        got_recall,
        recall,
        counts.sum(axis=1),
        what="recall",
        zero_case="no example belongs to that class",
        atol=atol,
    )


def matrices_for_precision_recall(seed: int, n_classes: int = 4) -> list[np.ndarray]:
    """Confusion matrices that exercise every branch: random, a class never predicted,
    a class with no examples, both at once, and a perfect classifier."""
    rng = np.random.default_rng(seed)
    random = rng.integers(0, 9, (n_classes, n_classes))
    never_predicted = rng.integers(1, 9, (n_classes, n_classes))
    never_predicted[:, 1] = 0
    no_examples = rng.integers(1, 9, (n_classes, n_classes))
    no_examples[2, :] = 0
    both = rng.integers(1, 9, (n_classes, n_classes))
    both[:, 0] = 0
    both[n_classes - 1, :] = 0
    perfect = np.diag(rng.integers(1, 9, n_classes))
    return [random, never_predicted, no_examples, both, perfect]


def label_sets_for_confusion(
    seed: int, n_classes: int = 5, size: int = 40
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(y_true, y_pred) pairs: random, a class never predicted, and labels that stop
    short of ``n_classes - 1`` (a matrix sized from the data comes out too small)."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, n_classes, size)
    y_pred = rng.integers(0, n_classes, size)
    never = np.where(y_pred == 1, 0, y_pred)
    short_true = rng.integers(0, n_classes - 2, size)
    short_pred = rng.integers(0, n_classes - 2, size)
    return [(y_true, y_pred), (y_true, never), (short_true, short_pred)]


def expect_reported_report(
    reported: dict[str, Any], report: ClassificationReport, *, atol: float = 1e-4
) -> None:
    """What a notebook reports about its test set (``matrix``, ``precision``, ``recall``;
    any may be absent) equals the grader's report of the same model on the same images."""
    if "matrix" in reported:
        got = numeric_array(reported["matrix"], "the reported confusion matrix")
        expect_matrix_equal(got, report.matrix, what="the reported confusion matrix")
    for key, expected, denominators, zero_case in (
        ("precision", report.precision, report.matrix.sum(axis=0), "nothing was predicted"),
        ("recall", report.recall, report.matrix.sum(axis=1), "no example has that class"),
    ):
        if key in reported:
            got = numeric_array(reported[key], f"the reported {key}")
            expect_rates(
                got,
                expected,
                denominators,
                what=f"the reported {key}",
                zero_case=zero_case,
                atol=atol,
            )
