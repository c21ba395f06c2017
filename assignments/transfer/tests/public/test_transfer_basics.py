"""Public checks for the transfer lab: the pretrained base, the lab's model, the few images,
and whether the final model works on images prepared as the lab states.

Run them yourself with ``grader check your_notebook.ipynb``. Passing them does not mean
full marks: the hidden tests call your functions with their own data, their own copy of
the base and other numbers of classes, and check which weights move when you train.
"""

from __future__ import annotations

import numpy as np

from grader import checks
from grader.datasets import load_mnist

BASE_PARAMS = 4_800  # conv1 3*3*1*16 + 16 = 160, conv2 3*3*16*32 + 32 = 4,640
#: The lab's model: the base, Dense(64) on 800 features (51,264), Dense(5) (325).
LAB_MODEL_PARAMS = 56_389
NEAR_MISSES = {
    56_714: "a 10-class output layer: the new task has 5 classes (the digits 5-9)",
    4_965: "no hidden layer: the head is Dense(64, relu) and then Dense(5, softmax)",
    4_800: "no head at all",
}


def test_base_and_lab_model(nb):
    assert nb.exists("base"), "the notebook has no `base`: run the cell that loads data/base.keras"
    base = checks.param_counts(nb, "base")
    checks.expect_param_count(base, BASE_PARAMS, what="parameters in `base`")
    checks.expect_layer_param_counts(checks.layer_param_counts(nb, "base"), [160, 4_640])
    assert nb.exists("model"), "the notebook has no `model`: build it with build_transfer_model"
    shapes = checks.output_shapes(nb, "model", [(1, 28, 28, 1), (8, 28, 28, 1)])
    checks.expect_output_shapes(shapes, lambda shape: (shape[0], 5))
    counts = checks.param_counts(nb, "model")
    checks.expect_param_count(counts, LAB_MODEL_PARAMS, NEAR_MISSES)


def test_few_shot_training_images(nb):
    per_class = nb.setting("PER_CLASS")  # the lab's 5 when the notebook hard-codes it
    for name in ("x_train", "y_train"):
        assert nb.exists(name), f"the notebook has no `{name}`: keep the few training images"
    x = np.asarray(nb.get("x_train"))
    y = np.asarray(nb.get("y_train"))
    assert x.shape == (5 * per_class, 28, 28, 1), (
        f"x_train has shape {x.shape}, expected ({5 * per_class}, 28, 28, 1): "
        f"{per_class} images of each of the digits 5-9, with a channel axis"
    )
    assert y.shape == (5 * per_class,) and y.dtype.kind in "iu", (
        f"y_train must hold {5 * per_class} integer labels, got shape {y.shape} ({y.dtype})"
    )
    assert sorted(set(y.tolist())) == [0, 1, 2, 3, 4] and np.all(
        np.bincount(y, minlength=5) == per_class
    ), f"y_train must hold the labels 0-4 (the digits 5-9 relabelled), {per_class} of each"


#: Images the public preparation check measures the final model on (about half of them
#: show the digits 5-9): a public seed, not the hidden tests' images.
PUBLIC_IMAGES, PUBLIC_SEED = 600, 77
NEW_DIGITS = (5, 6, 7, 8, 9)


def test_input_preparation(nb):
    """Warns before submission when the final model only works on the notebook's own
    preparation of its inputs (the hidden accuracy test measures new images)."""
    assert nb.exists("model"), "the notebook has no trained `model`: run the training cells"
    digits = load_mnist(n_train=0, n_test=PUBLIC_IMAGES, seed=PUBLIC_SEED, tier=nb.tier)
    keep = np.isin(digits.y_test, NEW_DIGITS)
    # (N, 28, 28, 1) float32 in [0, 1], labelled 0-4; checks.accuracy passes the images
    # through the notebook's preprocess(x) when it defines one.
    x, y = digits.x_test[keep][..., None], digits.y_test[keep] - NEW_DIGITS[0]
    checks.expect_input_preparation(
        nb,
        "model",
        x,
        y,
        own=checks.reported_number(nb, "accuracies", "fine_tuned"),
        own_name="accuracies['fine_tuned']",
        inputs=f"{len(y)} images of the digits 5-9, (N, 28, 28, 1) in [0, 1] as the lab states",
    )
