"""Hidden tests for the GPU CNN lab: the trained model and what the notebook recorded.

The held-out images are the grader's own image-folder tree (``write_image_folder`` with a
seed the notebook never uses, read back with ``read_image_folder`` and standardised as
the stub does, or passed through the notebook's own ``preprocess(x)`` when it has one):
the same kind of pictures, new colours, sizes and positions, from source digits no
training image uses. Only the images enter the kernel; the labels stay
in this process. The accuracy is scored in bands (rubrics/cnn_gpu.yaml); the pass mark
below is the full-credit band, calibrated from the reference solution
(docs/calibration.md).
"""

from __future__ import annotations

import math

import numpy as np

from grader import checks
from grader.checks.predictions import PREPROCESS
from grader.datasets import (
    image_folder_sample,
    standardize_images,  # noqa: F401 - compared with the notebook's
)

HELD_OUT_IMAGES, HELD_OUT_SEED = 400, 4_242
#: Full-credit accuracy with the grading parameters of assignment.yaml (offline data only:
#: the image tree is always the generated one).
PASS_MARK = 0.85


def held_out_images(as_read: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Held-out images (eight = 0, three = 1); the labels stay here.

    Standardised per image as the stub's data cell does, or, ``as_read``, as
    ``read_image_folder`` returns them: for a notebook with its own ``preprocess(x)``
    (``checks.accuracy`` passes them through it).
    """
    return image_folder_sample(
        HELD_OUT_IMAGES, HELD_OUT_SEED, shuffle=False, standardize=not as_read
    )


def reported_accuracy(nb) -> float | None:
    """The notebook's ``test_accuracy`` when it is a fraction, else None (graded elsewhere)."""
    value = nb.get("test_accuracy") if nb.exists("test_accuracy") else None
    return float(value) if type(value) in (int, float) and 0 <= value <= 1 else None


def test_accuracy(nb):
    assert nb.exists("model"), "the notebook has no trained `model`: run the training cell"
    x, y = held_out_images(as_read=nb.exists(PREPROCESS))
    value = checks.accuracy(nb, "model", x, y)
    checks.expect_accuracy_at_least(
        value,
        PASS_MARK,
        what=f"accuracy on {HELD_OUT_IMAGES} held-out images",
        own=reported_accuracy(nb),
        inputs=f"{HELD_OUT_IMAGES} new images prepared as the lab states",
    )


def test_loss_history(nb):
    history = checks.epoch_history(nb)
    checks.expect_loss_decrease(history, k=1, what="loss in `history`")
    reported = nb.get("test_accuracy") if nb.exists("test_accuracy") else None
    assert type(reported) in (int, float) and math.isfinite(reported) and 0 <= reported <= 1, (
        f"`test_accuracy` must be a number in [0, 1], not {reported!r:.40}"
    )
