"""Hidden test for the transfer lab's data step: relabel_digits on the grader's arrays.

The arrays and the digits are drawn here (digits out of order, repeated labels in any
order), the expected result is computed here by the reference below, and only the
inputs go into the kernel.
"""

from __future__ import annotations

import numpy as np


def reference_relabel(x, y, digits, per_class=None):
    """Images of ``digits`` grouped in the order of ``digits``, labelled by position."""
    indices, labels = [], []
    for position, digit in enumerate(digits):
        found = np.flatnonzero(np.asarray(y) == digit)
        if per_class is not None:
            found = found[:per_class]
        indices.append(found)
        labels.append(np.full(len(found), position, dtype=np.int64))
    return np.asarray(x)[np.concatenate(indices)], np.concatenate(labels)


def fresh_arrays(seed: int, count: int = 60):
    """Random 'images' (count, 4, 3) and labels 0-9; each image's first pixel is its index."""
    rng = np.random.default_rng([seed, 17])
    x = rng.normal(size=(count, 4, 3)).astype(np.float32)
    x[:, 0, 0] = np.arange(count)
    return x, rng.integers(0, 10, size=count)


def as_pair(result, what: str):
    assert isinstance(result, list | tuple) and len(result) == 2, f"{what} must return (x, labels)"
    return np.asarray(result[0]), np.asarray(result[1])


def test_relabel_digits_on_fresh_arrays(nb):
    for seed, digits, per_class in ((1, (7, 2, 9), 3), (2, (4, 0), None), (3, (8, 3, 6, 1), 2)):
        x, y = fresh_arrays(seed)
        call = f"relabel_digits(x, y, {digits}, per_class={per_class})"
        got_x, got_y = as_pair(nb.call("relabel_digits", x, y, list(digits), per_class), call)
        want_x, want_y = reference_relabel(x, y, digits, per_class)
        assert got_y.shape == want_y.shape and np.array_equal(got_y, want_y), (
            f"{call} gives labels {got_y.tolist()[:12]}, expected {want_y.tolist()[:12]}: "
            "each image's label is the position of its digit in `digits`"
        )
        assert got_y.dtype.kind in "iu", f"{call}: labels must be integers, not {got_y.dtype}"
        assert got_x.shape == want_x.shape and np.array_equal(got_x, want_x), (
            f"{call} keeps the wrong images (shape {got_x.shape}, expected {want_x.shape}): "
            "group them by digit in the order of `digits`, each group in the order of x"
        )
