"""Hidden tests for the image-classification lab: stage (d) and the trained model's accuracy.

``test_performance_report`` regenerates the notebook's own test set from its ``SEED`` and
``N_TEST`` (the lab's defaults, 0 and the whole test set, when the notebook does not use
those names), prepared as the lab states (channels last, [0, 1], then the notebook's
``preprocess(x)`` when it defines one), has the trained model predict it in the kernel,
and computes accuracy, confusion matrix, precision and recall here with the labels it
holds; the notebook's
``test_accuracy``, ``test_confusion``, ``test_precision`` and ``test_recall`` must be those.

Held-out images for ``test_accuracy`` are drawn here with a seed the notebook never uses;
only the images enter the kernel. The accuracy is scored in bands (rubrics/cnn_cifar.yaml);
the pass mark below is the full-credit band, calibrated from the reference solution
(docs/calibration.md, cnn_cifar).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from grader import checks
from grader.checks import classification
from grader.datasets import load_cifar10

HELD_OUT_IMAGES, HELD_OUT_SEED = 600, 4_545
#: Full-credit accuracy per data tier, with the grading parameters of assignment.yaml.
PASS_MARK = {"offline": 0.70, "full": 0.35}
N_CLASSES = 10


@functools.lru_cache(maxsize=4)
def channels_last_test_set(
    tier: str, seed: int, count: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Test images as the model takes them, (N, 32, 32, 3), transposed here."""
    split = load_cifar10(n_train=0, n_test=count, seed=seed, tier=tier)
    return np.ascontiguousarray(split.x_test.transpose(0, 2, 3, 1)), split.y_test


def reported(nb, name: str):
    value = nb.get(name) if nb.exists(name) else None
    assert value is not None, f"the notebook has no `{name}`: compute it in stage (d)"
    return value


def test_performance_report(nb):
    seed, count = nb.setting("SEED"), nb.setting("N_TEST")
    assert type(seed) is int and (count is None or type(count) is int), (
        "SEED must be an integer and N_TEST an integer or None (load_cifar10's arguments)"
    )
    assert nb.exists("model"), "the notebook has no trained `model`: run stage (c)"
    x, labels = channels_last_test_set(nb.tier, seed, count)
    predictions = checks.predict_classes(nb, "model", x, preprocess=True)
    report = classification.classification_report(predictions, labels, N_CLASSES)
    nb.record("measured_accuracy", report.accuracy)
    accuracy = reported(nb, "test_accuracy")
    if isinstance(accuracy, np.ndarray) and accuracy.size == 1:
        accuracy = float(accuracy.reshape(()))
    assert type(accuracy) in (int, float) and math.isfinite(accuracy), (
        f"`test_accuracy` must be a number, not {type(accuracy).__name__}"
    )
    nb.record("reported_accuracy", float(accuracy))
    assert abs(accuracy - report.accuracy) <= 1.5 / len(labels), (  # one image's worth
        f"test_accuracy is {accuracy:.4f}, but the trained model classifies "
        f"{report.accuracy:.4f} of the test images correctly"
    )
    classification.expect_reported_report(
        {
            "matrix": reported(nb, "test_confusion"),
            "precision": reported(nb, "test_precision"),
            "recall": reported(nb, "test_recall"),
        },
        report,
    )


def test_accuracy(nb):
    assert nb.exists("model"), "the notebook has no trained `model`: run stage (c)"
    x, labels = channels_last_test_set(nb.tier, HELD_OUT_SEED, HELD_OUT_IMAGES)
    value = checks.accuracy(nb, "model", x, labels)
    own = nb.get("test_accuracy") if nb.exists("test_accuracy") else None
    checks.expect_accuracy_at_least(
        value,
        PASS_MARK[nb.tier],
        what=f"accuracy on {HELD_OUT_IMAGES} held-out images",
        own=float(own) if type(own) in (int, float) and math.isfinite(own) else None,
    )
