"""The classification checks: the grader's references, and each check catching a wrong answer.

The references are compared with scikit-learn (zero_division=0) without a kernel; the
checks run against a real kernel holding a correct implementation and the usual mistakes
(a transposed matrix, a matrix sized from the data, NaN for 0/0, precision and recall
swapped, percentages, a lying return value).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from grader.checks.classification import (
    ZERO_DIVISION,
    classification_report,
    expect_confusion_matrix,
    expect_precision_recall,
    expect_reported_report,
    label_sets_for_confusion,
    matrices_for_precision_recall,
    reference_confusion_matrix,
    reference_precision_recall,
    student_confusion_matrix,
    student_precision_recall,
)

CELLS = [
    """
import numpy as np

def confusion_matrix(y_true, y_pred, n_classes):
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    for t, p in zip(y_true, y_pred):
        matrix[t, p] += 1
    return matrix

def confusion_as_lists(y_true, y_pred, n_classes):
    return confusion_matrix(y_true, y_pred, n_classes).astype(float).tolist()

def confusion_transposed(y_true, y_pred, n_classes):
    return confusion_matrix(y_true, y_pred, n_classes).T

def confusion_sized_from_data(y_true, y_pred, n_classes):
    size = int(max(np.max(y_true), np.max(y_pred))) + 1
    return confusion_matrix(y_true, y_pred, size)

def confusion_counts_twice(y_true, y_pred, n_classes):
    return 2 * confusion_matrix(y_true, y_pred, n_classes)

def precision_recall(matrix):
    matrix = np.asarray(matrix, dtype=float)
    hits = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    return precision, recall

def precision_recall_nan(matrix):
    matrix = np.asarray(matrix, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diag(matrix) / matrix.sum(axis=0), np.diag(matrix) / matrix.sum(axis=1)

def precision_recall_swapped(matrix):
    precision, recall = precision_recall(matrix)
    return recall, precision

def precision_recall_percent(matrix):
    precision, recall = precision_recall(matrix)
    return 100 * precision, 100 * recall

def precision_only(matrix):
    return precision_recall(matrix)[0]

class AlwaysEqual:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__

def confusion_lying(y_true, y_pred, n_classes):
    return AlwaysEqual()
"""
]


# -- the references, no kernel -----------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_references_agree_with_sklearn(seed):
    for y_true, y_pred in label_sets_for_confusion(seed):
        ours = reference_confusion_matrix(y_true, y_pred, 5)
        np.testing.assert_array_equal(
            ours, metrics.confusion_matrix(y_true, y_pred, labels=range(5))
        )
        precision, recall = reference_precision_recall(ours)
        sk_p, sk_r, _, _ = metrics.precision_recall_fscore_support(
            y_true, y_pred, labels=range(5), zero_division=0
        )
        np.testing.assert_allclose(precision, sk_p)
        np.testing.assert_allclose(recall, sk_r)


def test_edge_inputs_hit_every_branch():
    matrices = matrices_for_precision_recall(1)
    assert any((m.sum(axis=0) == 0).any() for m in matrices), "a class never predicted"
    assert any((m.sum(axis=1) == 0).any() for m in matrices), "a class with no examples"
    pairs = label_sets_for_confusion(1)
    assert any(max(t.max(), p.max()) < 4 for t, p in pairs), "labels short of n_classes - 1"
    precision, recall = reference_precision_recall(matrices[3])
    assert precision[0] == ZERO_DIVISION and recall[-1] == ZERO_DIVISION


def test_report_from_predictions():
    report = classification_report(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 4)
    assert report.accuracy == 0.75
    np.testing.assert_array_equal(report.precision, [1.0, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(report.recall, [1.0, 1.0, 0.5, 0.0])


# -- the checks, against a real kernel ---------------------------------------------------


def test_correct_functions_pass(nb):
    for y_true, y_pred in label_sets_for_confusion(2):
        for function in ("confusion_matrix", "confusion_as_lists"):
            got = student_confusion_matrix(nb, y_true, y_pred, 5, function=function)
            expect_confusion_matrix(got, y_true, y_pred, 5)
    for matrix in matrices_for_precision_recall(2):
        expect_precision_recall(student_precision_recall(nb, matrix), matrix)


@pytest.mark.parametrize(
    "function, message",
    [
        ("confusion_transposed", "is transposed: rows must be the true classes"),
        ("confusion_sized_from_data", "has shape (3, 3), expected (5, 5)"),
        ("confusion_counts_twice", "adds up to 80, expected 40"),
    ],
)
def test_wrong_confusion_matrices_fail(nb, function, message):
    failures = []
    for y_true, y_pred in label_sets_for_confusion(3):
        got = student_confusion_matrix(nb, y_true, y_pred, 5, function=function)
        try:
            expect_confusion_matrix(got, y_true, y_pred, 5)
        except AssertionError as exc:
            failures.append(str(exc))
    # confusion_sized_from_data is right whenever the labels reach class 4: only the
    # short label set catches it, which is why the grader's inputs include one.
    assert any(message in text for text in failures), failures


@pytest.mark.parametrize(
    "function, message",
    [
        ("precision_recall_nan", "is nan: nothing was predicted as that class, so it is 0/0"),
        ("precision_recall_swapped", "precision and recall are swapped"),
        ("precision_recall_percent", "is in percent"),
        ("precision_only", "must return two arrays"),
    ],
)
def test_wrong_precision_recall_fails(nb, function, message):
    matrix = matrices_for_precision_recall(4)[1]  # class 1 is never predicted
    with pytest.raises(AssertionError, match=message.replace("(", r"\(")):
        expect_precision_recall(student_precision_recall(nb, matrix, function=function), matrix)


def test_a_lying_return_value_is_not_an_array(nb):
    with pytest.raises(AssertionError, match="expected a NumPy array of numbers"):
        student_confusion_matrix(nb, [0, 1], [1, 0], 2, function="confusion_lying")


def test_reported_report_catches_swapped_arguments(nb):
    labels, predictions = label_sets_for_confusion(5)[0]
    report = classification_report(predictions, labels, 5)
    swapped = student_confusion_matrix(nb, predictions, labels, 5)  # the notebook's mistake
    with pytest.raises(AssertionError, match="is transposed"):
        expect_reported_report({"matrix": swapped}, report)
    precision, recall = reference_precision_recall(swapped)
    with pytest.raises(AssertionError, match="the reported precision of class"):
        expect_reported_report({"precision": precision, "recall": recall}, report)
    expect_reported_report(
        {"matrix": report.matrix, "precision": report.precision, "recall": report.recall}, report
    )
