"""Hidden tests for the MLP lab: what the trained model reaches, and what the notebook says.

Held-out digits are drawn here (grader.datasets, a seed the notebook never uses); only the
images enter the kernel and the labels stay in this process. The accuracy is scored in
bands (rubrics/mlp_mnist.yaml); the pass mark below is the full-credit band, calibrated
from the reference solution (docs/calibration.md, mlp_mnist).

``test_reported_accuracy`` regenerates the notebook's own test set from its ``SEED`` and
``N_TEST`` (the lab's defaults, 0 and the whole test set, when the notebook does not use
those names), prepares it as the lab states (and through the notebook's ``preprocess(x)``
when it defines one) and checks that ``test_loss`` and ``test_accuracy`` are the trained
model's numbers on it, which catches the seed manual's summary bug (one model's accuracy
printed under another's name) and a training or validation accuracy reported as the
test's. Held-out digits go through ``preprocess(x)`` too.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from grader import checks
from grader.checks.classification import numeric_array
from grader.datasets import load_mnist

HELD_OUT_IMAGES, HELD_OUT_SEED = 600, 4_343
#: Full-credit accuracy per data tier, with the grading parameters of assignment.yaml.
PASS_MARK = {"offline": 0.80, "full": 0.85}
#: Keras clips probabilities to [1e-7, 1 - 1e-7] before the cross-entropy's logarithm.
EPSILON = 1e-7


@functools.lru_cache(maxsize=4)
def flat_test_set(tier: str, seed: int, count: int | None) -> tuple[np.ndarray, np.ndarray]:
    split = load_mnist(n_train=0, n_test=count, seed=seed, tier=tier)
    return split.x_test.reshape(len(split.x_test), 784), split.y_test


def reported_number(nb, name: str) -> float:
    assert nb.exists(name), f"the notebook has no `{name}`: evaluate the model on the test set"
    value = nb.get(name)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        value = float(value.reshape(()))
    assert type(value) in (int, float) and math.isfinite(value), (
        f"`{name}` must be a number, not {type(value).__name__}"
    )
    return float(value)


def test_reported_accuracy(nb):
    reported_accuracy = nb.record("reported_accuracy", reported_number(nb, "test_accuracy"))
    reported_loss = nb.record("reported_loss", reported_number(nb, "test_loss"))
    seed, count = nb.setting("SEED"), nb.setting("N_TEST")
    assert type(seed) is int and (count is None or type(count) is int), (
        "SEED must be an integer and N_TEST an integer or None (the lab's load_mnist arguments)"
    )
    x, labels = flat_test_set(nb.tier, seed, count)
    assert nb.exists("model"), "the notebook has no trained `model`: run the training cell"
    inputs = checks.prepared_inputs(nb, x)
    probabilities = numeric_array(nb.call(nb.ref("model"), inputs, training=False), "the outputs")
    assert probabilities.shape == (len(x), 10), "the model must give 10 outputs per image"
    accuracy = nb.record("measured_accuracy", checks.accuracy_of(probabilities.argmax(1), labels))
    picked = np.clip(probabilities[np.arange(len(x)), labels], EPSILON, 1 - EPSILON)
    loss = nb.record("measured_loss", float(-np.mean(np.log(picked))))
    if not abs(reported_accuracy - accuracy) <= 1.5 / len(x):  # one image's worth, NaN fails
        curves = nb.get("history.history") if nb.exists("history.history") else {}
        for key, what in (("accuracy", "training"), ("val_accuracy", "validation")):
            last = (curves.get(key) or [None])[-1] if type(curves) is dict else None
            if type(last) is float and abs(last - reported_accuracy) < 1e-6:
                raise AssertionError(
                    f"test_accuracy is the last epoch's {what} accuracy ({last:.4f}), not the "
                    f"model's accuracy on the test set ({accuracy:.4f})"
                )
        raise AssertionError(
            f"test_accuracy is {reported_accuracy:.4f}, but the trained model classifies "
            f"{accuracy:.4f} of the test images correctly"
        )
    assert abs(reported_loss - loss) <= 1e-3 * max(1.0, loss), (
        f"test_loss is {reported_loss:.4f}, but the trained model's cross-entropy on the "
        f"test images is {loss:.4f}"
    )


def test_accuracy(nb):
    assert nb.exists("model"), "the notebook has no trained `model`: run the training cell"
    x, labels = flat_test_set(nb.tier, HELD_OUT_SEED, HELD_OUT_IMAGES)
    value = checks.accuracy(nb, "model", x, labels)
    checks.expect_accuracy_at_least(
        value,
        PASS_MARK[nb.tier],
        what=f"accuracy on {HELD_OUT_IMAGES} held-out digits",
        own=checks.reported_number(nb, "test_accuracy"),
    )
