"""Hidden tests for the image-classification lab: confusion_matrix and precision_recall.

The grader picks the inputs (grader.checks.classification): random labels, a class that is
never predicted, labels that stop short of n_classes - 1; confusion matrices with a column
of zeros (precision 0/0), a row of zeros (recall 0/0), both, and a perfect classifier. The
student's functions run in the kernel; the comparison with the NumPy reference (0/0 is
0.0) is made here.
"""

from __future__ import annotations

from grader.checks import classification

N_CLASSES = 5


def test_confusion_matrix(nb):
    for y_true, y_pred in classification.label_sets_for_confusion(7_070, N_CLASSES):
        got = classification.student_confusion_matrix(nb, y_true, y_pred, N_CLASSES)
        classification.expect_confusion_matrix(got, y_true, y_pred, N_CLASSES)
    # Ten classes, as in the lab, with one never predicted.
    y_true, y_pred = classification.label_sets_for_confusion(7_171, 10, size=200)[1]
    got = classification.student_confusion_matrix(nb, y_true, y_pred, 10)
    classification.expect_confusion_matrix(got, y_true, y_pred, 10)


def test_precision_recall(nb):
    for n_classes in (4, 10):
        for matrix in classification.matrices_for_precision_recall(8_080 + n_classes, n_classes):
            got = classification.student_precision_recall(nb, matrix)
            classification.expect_precision_recall(got, matrix)
