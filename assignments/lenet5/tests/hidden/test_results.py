"""Hidden tests for the LeNet-5 lab: the trained model and what the notebook recorded.

The held-out images are drawn here (grader.datasets, a seed the notebook never uses);
only the images enter the kernel, the labels stay in this process. The accuracy is
scored in bands (rubrics/lenet5.yaml); the pass mark below is the full-credit band,
calibrated from the reference solution (docs/calibration.md).
"""

from __future__ import annotations

import math

from grader import checks
from grader.datasets import load_cifar10

HELD_OUT_IMAGES, HELD_OUT_SEED = 600, 4_242
#: Full-credit accuracy per data tier, with the grading parameters of assignment.yaml.
PASS_MARK = {"offline": 0.70, "full": 0.30}


def test_accuracy(nb):
    assert nb.exists("model"), "the notebook has no trained `model`: run the training cell"
    held_out = load_cifar10(n_train=0, n_test=HELD_OUT_IMAGES, seed=HELD_OUT_SEED, tier=nb.tier)
    value = checks.accuracy(nb, "model", held_out.x_test, held_out.y_test)
    own = nb.get("test_accuracy") if nb.exists("test_accuracy") else None
    checks.expect_accuracy_at_least(
        value,
        PASS_MARK[nb.tier],
        what=f"accuracy on {HELD_OUT_IMAGES} held-out images",
        own=own if type(own) in (int, float) else None,
        inputs=f"{HELD_OUT_IMAGES} new images prepared as the lab states",
    )


def test_loss_history(nb):
    history = checks.epoch_history(nb)
    checks.expect_loss_decrease(history, k=1, what="loss in `history`")
    reported = nb.get("test_accuracy") if nb.exists("test_accuracy") else None
    assert type(reported) in (int, float) and math.isfinite(reported) and 0 <= reported <= 1, (
        f"`test_accuracy` must be a number in [0, 1], not {reported!r:.40}"
    )
