"""Hidden test for the MLP lab: prepare_data on the grader's own images and labels.

The images are random values in [0, 1] (every pixel different, so a column-by-column
flatten cannot pass for a row-by-row one) and the labels stop short of class 9, so a
one-hot encoding that takes its width from the labels comes out one column short.
"""

from __future__ import annotations

import numpy as np

from grader.checks.classification import numeric_array

N_IMAGES, N_CLASSES = 9, 10


def grader_inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2_024)
    images = rng.uniform(0, 1, (N_IMAGES, 28, 28)).astype(np.float32)
    labels = np.array([3, 0, 8, 1, 3, 7, 2, 5, 4], dtype=np.int64)  # no 6, no 9
    return images, labels


def test_prepare_data(nb):
    images, labels = grader_inputs()
    returned = nb.call("prepare_data", images, labels)
    assert type(returned) in (list, tuple) and len(returned) == 2, (
        "prepare_data must return a pair (x, y)"
    )
    raw_x, raw_y = returned
    x = numeric_array(raw_x, "x from prepare_data")
    assert x.shape == (N_IMAGES, 784), (
        f"x has shape {x.shape} for {N_IMAGES} images, expected ({N_IMAGES}, 784)"
    )
    assert type(raw_x) is np.ndarray and raw_x.dtype == np.float32, (
        f"x must be a float32 array, not {getattr(raw_x, 'dtype', type(raw_x).__name__)}"
    )
    flat = images.reshape(N_IMAGES, 784).astype(np.float64)
    if not np.allclose(x, flat, rtol=0, atol=1e-6):
        if np.allclose(x * 255, flat, rtol=0, atol=1e-4):
            raise AssertionError(
                "x is the images divided by 255: load_mnist already gives values in [0, 1]"
            )
        if np.allclose(x, images.transpose(0, 2, 1).reshape(N_IMAGES, 784), atol=1e-6):
            raise AssertionError(
                "x is flattened column by column: flatten each image row by row "
                "(images.reshape(len(images), 784))"
            )
        raise AssertionError("x is not each image's 784 pixel values, flattened row by row")
    y = numeric_array(raw_y, "y from prepare_data")
    expected = np.eye(N_CLASSES)[labels]
    assert y.shape == expected.shape, (
        f"y has shape {y.shape}, expected {expected.shape}: one-hot labels have n_classes "
        "columns even when the highest classes do not occur in the labels"
    )
    assert bool(np.array_equal(y, expected)), (
        "y is not the one-hot encoding of the labels (a 1 in the label's column, 0 elsewhere)"
    )
