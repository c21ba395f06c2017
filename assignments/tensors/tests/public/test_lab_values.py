"""Public checks for the tensors lab: the lab's own examples, with their known answers.

Run them yourself with ``grader check your_notebook.ipynb``. Passing them does not mean
full marks: the hidden tests call every function with other shapes, seeds, functions,
coefficients and data, and compare with values the grader computes itself.
"""

from __future__ import annotations

import numpy as np

#: tf.random.stateless_uniform([10, 10], seed=(3, 3), minval=1, maxval=10, dtype=tf.int32),
#: as seed 003 printed it and TensorFlow 2.21 still draws it.
LAB_MATRIX = [
    [2, 8, 9, 6, 7, 5, 1, 8, 6, 7],
    [4, 8, 4, 9, 1, 6, 2, 4, 8, 1],
    [4, 4, 6, 6, 4, 3, 2, 7, 4, 4],
    [5, 9, 8, 3, 8, 8, 7, 4, 8, 9],
    [7, 2, 8, 5, 2, 2, 2, 2, 1, 6],
    [4, 2, 7, 2, 1, 3, 1, 4, 8, 5],
    [7, 5, 5, 1, 8, 5, 1, 5, 7, 5],
    [4, 4, 4, 7, 4, 9, 2, 7, 9, 6],
    [4, 9, 2, 7, 4, 4, 7, 7, 5, 9],
    [9, 3, 1, 4, 8, 1, 8, 6, 5, 5],
]


def as_float(value: object, what: str) -> float:
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        raise AssertionError(f"{what} must return one number, not {value!r:.60}") from None


def test_lab_matrix(nb):
    got = np.asarray(nb.call("seeded_uniform", [10, 10], (3, 3), 1, 10))
    assert got.shape == (10, 10) and np.array_equal(got, np.array(LAB_MATRIX)), (
        "seeded_uniform([10, 10], (3, 3), 1, 10) is not the lab's matrix (first row "
        f"{got.reshape(-1)[:10].tolist()}, expected {LAB_MATRIX[0]}): use "
        "tf.random.stateless_uniform with dtype=tf.int32"
    )


def test_lab_distance_and_product(nb):
    a, b = np.array([[3.0, 2.0]], np.float32), np.array([[4.0, 6.0]], np.float32)
    distance = np.asarray(nb.call("pairwise_distances", a, b))
    assert distance.shape == (1, 1) and abs(float(distance[0, 0]) - np.sqrt(17)) < 1e-5, (
        f"pairwise_distances([[3, 2]], [[4, 6]]) is {distance.tolist()}, expected "
        "[[4.1231]] (the square root of 17)"
    )
    x, y = np.array([[1, 2], [3, 4]], np.int32), np.array([[5, 6], [7, 8]], np.int32)
    product = np.asarray(nb.call("matmul_transposed", x, y))
    assert product.shape == (2, 2) and np.array_equal(product, [[17, 23], [39, 53]]), (
        f"matmul_transposed(x, y) is {product.tolist()}, expected x @ y.T = [[17, 23], [39, 53]]"
    )


def test_lab_derivatives(nb):
    # The lab's two functions, built by the grader (the notebook may name its own anything).
    cubic = nb.probe("keras.tf_function", name="cubic")
    quartic = nb.probe("keras.tf_function", name="quartic")
    slope = as_float(nb.call("first_derivative", cubic, 2.0), "first_derivative")
    assert abs(slope - 52.0) < 1e-4, (
        f"first_derivative(3x^3 + 4x^2, 2.0) is {slope}, expected 9 * 4 + 8 * 2 = 52"
    )
    curvature = as_float(nb.call("second_derivative", quartic, 2.5), "second_derivative")
    assert abs(curvature - 6.25) < 1e-4, (
        f"second_derivative(x^4 / 12, 2.5) is {curvature}, expected 2.5 ** 2 = 6.25"
    )


def test_lab_roots(nb):
    roots = nb.call("solve_quadratic", 1.0, -4.0, 4.0)
    assert isinstance(roots, list | tuple) and len(roots) == 2, (
        "solve_quadratic must return two roots, (smaller, larger)"
    )
    values = sorted(as_float(r, "each root") for r in roots)
    assert len(values) == 2 and all(abs(v - 2.0) < 1e-5 for v in values), (
        f"solve_quadratic(1, -4, 4) gives {values}, expected the double root 2.0, 2.0"
    )
