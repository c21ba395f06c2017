"""Hidden tests for the transfer lab's model: the head, and the frozen base's counts.

The grader loads its own copy of the pretrained base in the kernel and asks for a
3-class model (the lab uses 5), so a head hard-wired to 5 outputs fails. Counts, with
Dense(64) on the base's 800 features and Dense(3):

    base 160 + 4,640 = 4,800 (frozen) | head 800*64 + 64 = 51,264 and 64*3 + 3 = 195
    total 56,259 = 51,459 trainable + 4,800 non-trainable
"""

from __future__ import annotations

import numpy as np

from grader import checks

BASE_PATH = "data/base.keras"
NUM_CLASSES = 3
BASE_PARAMS, HIDDEN_PARAMS, OUTPUT_PARAMS = 4_800, 51_264, 64 * NUM_CLASSES + NUM_CLASSES
TOTAL = BASE_PARAMS + HIDDEN_PARAMS + OUTPUT_PARAMS  # 56,259
TRAINABLE, NON_TRAINABLE = HIDDEN_PARAMS + OUTPUT_PARAMS, BASE_PARAMS  # 51,459 and 4,800
#: Wrong trainable counts and their usual cause.
TRAINABLE_NEAR_MISSES = {
    TOTAL: "nothing frozen: set base.trainable = False before building the model",
    TOTAL - 160: "only conv1 frozen: freeze the whole base, conv2 included",
    TOTAL - 4_640: "only conv2 frozen: freeze the whole base, conv1 included",
}


def three_class_model(nb):
    base = nb.probe("keras.load_model", path=BASE_PATH)
    return nb.call("build_transfer_model", base, NUM_CLASSES)


def test_head_for_a_new_number_of_classes(nb):
    model = three_class_model(nb)
    shapes = checks.output_shapes(nb, model, [(1, 28, 28, 1), (7, 28, 28, 1)])
    checks.expect_output_shapes(shapes, lambda shape: (shape[0], NUM_CLASSES))
    counts = checks.param_counts(nb, model)
    checks.expect_param_count(counts, TOTAL, what="parameters for 3 classes")
    layers = checks.layer_param_counts(nb, model)
    checks.expect_layer_param_counts(layers, [BASE_PARAMS, HIDDEN_PARAMS, OUTPUT_PARAMS])
    x = np.random.default_rng(5).uniform(0, 1, size=(6, 28, 28, 1)).astype(np.float32)
    probabilities = np.asarray(nb.method(model, "predict", x, verbose=0), dtype=np.float64)
    sums = probabilities.sum(axis=1)
    assert np.all(probabilities >= 0) and np.all(np.abs(sums - 1) < 1e-4), (
        "the model's outputs must be probabilities (a softmax output layer): rows sum to "
        f"{np.round(sums, 3).tolist()}"
    )


def test_base_frozen_counts(nb):
    counts = checks.param_counts(nb, three_class_model(nb))
    if counts.trainable in TRAINABLE_NEAR_MISSES and counts.trainable != TRAINABLE:
        raise AssertionError(
            f"{counts.trainable:,} trainable parameters, expected {TRAINABLE:,} "
            f"({TRAINABLE_NEAR_MISSES[counts.trainable]})"
        )
    checks.expect_trainable_counts(counts, trainable=TRAINABLE, non_trainable=NON_TRAINABLE)
