"""Hidden tests for the transfer lab's results: the final model and the comparison table.

The held-out images are drawn here (grader.datasets, a seed the notebook never uses, the
digits 5-9 relabelled 0-4); only the images enter the kernel, the labels stay here. The
accuracy is scored in bands (rubrics/transfer.yaml); PASS_MARK is the full-credit band,
calibrated from the reference solution (docs/calibration.md).
"""

from __future__ import annotations

import math

import numpy as np

from grader import checks
from grader.datasets import load_mnist

NEW_DIGITS = (5, 6, 7, 8, 9)
HELD_OUT_IMAGES, HELD_OUT_SEED = 1_000, 4_242
#: Full-credit accuracy per data tier, with the grading parameters of assignment.yaml.
PASS_MARK = {"offline": 0.55, "full": 0.45}


def relabelled(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The images of the digits 5-9 with a channel axis, labelled 0-4."""
    keep = np.isin(y, NEW_DIGITS)
    return x[keep][..., None], y[keep] - NEW_DIGITS[0]


def test_accuracy(nb):
    assert nb.exists("model"), "the notebook has no trained `model`: run the training cells"
    held_out = load_mnist(n_train=0, n_test=HELD_OUT_IMAGES, seed=HELD_OUT_SEED, tier=nb.tier)
    x, y = relabelled(held_out.x_test, held_out.y_test)
    value = checks.accuracy(nb, "model", x, y)
    checks.expect_accuracy_at_least(
        value,
        PASS_MARK[nb.tier],
        what=f"accuracy on {len(y)} held-out images of the digits 5-9",
        own=checks.reported_number(nb, "accuracies", "fine_tuned"),
        inputs=f"{len(y)} new images of the digits 5-9 prepared as the lab states",
    )


def test_comparison_table(nb):
    assert nb.exists("accuracies"), (
        "the notebook has no `accuracies`: keep the scratch, head and fine-tuned accuracies"
    )
    reported = nb.get("accuracies")
    assert isinstance(reported, dict) and set(reported) == {"scratch", "head", "fine_tuned"}, (
        "`accuracies` must be a dict with the keys 'scratch', 'head' and 'fine_tuned'"
    )
    for key, value in reported.items():
        assert type(value) in (int, float) and math.isfinite(value) and 0 <= value <= 1, (
            f"accuracies[{key!r}] must be a number in [0, 1], not {value!r:.40}"
        )
        nb.record(f"reported_{key}", float(value))
    # The notebook's own test set: its load_mnist arguments, or the lab's where it hard-codes them.
    seed, pool, n_test = nb.setting("SEED"), nb.setting("N_POOL"), nb.setting("N_TEST")
    data = load_mnist(n_train=pool, n_test=n_test, seed=seed, tier=nb.tier)
    x, y = relabelled(data.x_test, data.y_test)
    measured = checks.accuracy(nb, "model", x, y)
    # One image either way: model.predict and the grader batch differently (near ties).
    checks.expect_reported_accuracy(reported["fine_tuned"], measured, atol=1.5 / len(y))
