"""Hidden test for the image-classification lab: to_channels_last moves the channel axis.

Random pixel values make every pixel distinct, so a reshape (right shape, scrambled
pictures) cannot pass for a transpose; an array that is not CIFAR-shaped checks that the
function works for any (N, C, H, W).
"""

from __future__ import annotations

import numpy as np

from grader.checks.classification import numeric_array

SHAPES = [(2, 3, 32, 32), (3, 4, 5, 7)]


def test_channels_last(nb):
    rng = np.random.default_rng(3_131)
    for shape in SHAPES:
        images = rng.uniform(0, 1, shape).astype(np.float32)
        n, c, h, w = shape
        got = numeric_array(nb.call("to_channels_last", images), "to_channels_last(images)")
        assert got.shape == (n, h, w, c), (
            f"to_channels_last turned {shape} into {got.shape}, expected {(n, h, w, c)}"
        )
        if np.array_equal(got, images.transpose(0, 2, 3, 1)):
            continue
        if np.array_equal(got, images.reshape(n, h, w, c)):
            raise AssertionError(
                "to_channels_last reshapes instead of transposing: the shape is right but "
                "the pixels are scrambled; move the axes with np.transpose(images, (0, 2, 3, 1))"
            )
        raise AssertionError(
            f"to_channels_last(images)[n, h, w, c] must equal images[n, c, h, w] for {shape}"
        )
