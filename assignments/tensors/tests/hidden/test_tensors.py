"""Hidden tests for the tensors lab: seeded draws, in-place updates, broadcasting, matmul.

Every input here is new (shapes, seeds, ranges, values the lab never uses). Expected
values are computed here with NumPy, except the stateless draws: NumPy cannot reproduce
TensorFlow's generator, so they are constants taken from TensorFlow 2.21 (the version the
grader pins; tests/test_assignment_tensors.py redraws them with TensorFlow to catch a
version change).
"""

from __future__ import annotations

import numpy as np

#: (shape, seed, minval, maxval) -> tf.random.stateless_uniform(..., dtype=tf.int32).
FRESH_DRAWS = {
    ((3, 5), (7, 11), -5, 5): [[0, 2, -3, -5, 2], [-2, 4, 1, 2, 0], [-3, 1, 2, 2, -4]],
    ((4, 2), (2024, 1), 0, 100): [[4, 28], [11, 4], [81, 14], [62, 13]],
    ((2, 6), (0, 0), 10, 20): [[10, 19, 18, 18, 16, 18], [14, 16, 19, 17, 14, 17]],
}


def described(nb, function: str, *args):
    """The kind, dtype and value of what a notebook function returns (kept in the kernel)."""
    info = nb.probe("keras.tf_values", value=nb.new(function, *args))
    assert isinstance(info, dict), f"{function} must return one tensor"
    return info


def test_seeded_uniform_on_fresh_seeds(nb):
    for (shape, seed, low, high), expected in FRESH_DRAWS.items():
        call = f"seeded_uniform({list(shape)}, {seed}, {low}, {high})"
        info = described(nb, "seeded_uniform", list(shape), seed, low, high)
        assert info["kind"] == "tf.Tensor" and info["dtype"] == "int32", (
            f"{call} returned a {info['kind']} of dtype {info['dtype']}, expected an int32 "
            "tf.Tensor from tf.random.stateless_uniform"
        )
        got = np.asarray(info["value"])
        assert got.shape == shape and np.array_equal(got, np.array(expected)), (
            f"{call} gives {got.tolist()}, expected {expected}: pass shape, seed, minval and "
            "maxval to tf.random.stateless_uniform unchanged"
        )


def variable_in_kernel(nb, values: np.ndarray):
    """A fresh tf.Variable in the kernel (the student's function gets the real object),
    made by the grader: the notebook's name for TensorFlow does not matter."""
    return nb.probe("keras.tf_variable", value=values)


def test_variables_change_in_place(nb):
    rng = np.random.default_rng(41)
    cases = [
        rng.integers(1, 50, size=(3, 4)).astype(np.int32),
        rng.uniform(1, 2, size=(5, 2)).astype(np.float32),
    ]
    for values in cases:
        variable = variable_in_kernel(nb, values)
        returned = np.asarray(nb.call("zero_corners", variable))
        held = np.asarray(nb.method(variable, "numpy"))
        expected = values.copy()
        expected[0, 0] = expected[-1, -1] = 0
        assert np.array_equal(held, expected), (
            f"after zero_corners the caller's {values.shape} variable is not zeroed at [0, 0] "
            "and [-1, -1] (and unchanged elsewhere): assign into the variable itself"
        )
        assert np.array_equal(returned, expected), "zero_corners must return the variable"
    for values in (
        np.array([[1.5, -2.0], [3.0, 0.5]], np.float32),
        np.arange(-3, 4, dtype=np.int32),
    ):
        variable = variable_in_kernel(nb, values)
        returned = np.asarray(nb.call("square_in_place", variable))
        held = np.asarray(nb.method(variable, "numpy"))
        assert np.array_equal(returned, values**2), (
            f"square_in_place returned {returned.tolist()}, expected the squares "
            f"{(values**2).tolist()}"
        )
        assert np.array_equal(held, values**2), (
            "square_in_place returned the squares but the caller's variable still holds "
            f"{held.tolist()}: `variable = variable * variable` only rebinds your local name; "
            "use variable.assign(tf.square(variable))"
        )


def test_pairwise_distances_by_broadcasting(nb):
    rng = np.random.default_rng(42)
    for n, m, d in ((4, 5, 3), (1, 3, 2), (6, 1, 4)):
        a = rng.normal(size=(n, d)).astype(np.float32)
        b = rng.normal(size=(m, d)).astype(np.float32)
        expected = np.linalg.norm(a[:, None, :].astype(np.float64) - b[None, :, :], axis=-1)
        got = np.asarray(nb.call("pairwise_distances", a, b), dtype=np.float64)
        assert got.shape == (n, m), (
            f"pairwise_distances of ({n}, {d}) and ({m}, {d}) rows has shape {got.shape}, "
            f"expected ({n}, {m})"
        )
        error = float(np.max(np.abs(got - expected)))
        assert error < 1e-5 * (1 + expected.max()), (
            f"pairwise_distances is off by up to {error:.3g} on random ({n}, {d}) and ({m}, {d}) "
            "rows: entry (i, j) is the Euclidean distance between a[i] and b[j]"
        )


def test_matmul_transposed_on_new_shapes(nb):
    rng = np.random.default_rng(43)
    x, y = rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(5, 4)).astype(np.float32)
    got = np.asarray(nb.call("matmul_transposed", x, y), dtype=np.float64)
    expected = x.astype(np.float64) @ y.T.astype(np.float64)
    assert got.shape == (3, 5) and np.max(np.abs(got - expected)) < 1e-5, (
        f"matmul_transposed of (3, 4) and (5, 4) matrices gives shape {got.shape}, expected "
        "x @ y.T of shape (3, 5)"
    )
    xi = rng.integers(-9, 10, size=(2, 3)).astype(np.int32)
    yi = rng.integers(-9, 10, size=(4, 3)).astype(np.int32)
    got_int = np.asarray(nb.call("matmul_transposed", xi, yi))
    assert got_int.shape == (2, 4) and np.array_equal(got_int, xi @ yi.T), (
        "matmul_transposed of integer (2, 3) and (4, 3) matrices must be x @ y.T exactly"
    )
