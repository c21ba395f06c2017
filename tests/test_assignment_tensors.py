"""What is particular to the `tensors` lab.

The checks every assignment gets are in test_assignments_content.py. Here: the stateless
draws the tests keep as constants are what this TensorFlow draws (TensorFlow may change
them between versions); the grader's Adam replay is Keras's Adam; the curriculum's
numbers (52.0, 6.25, [[17, 23], [39, 53]], 2.0 and 2.0, the least-squares SSE 0.34429)
come out of the references; and the hidden tests' inputs separate right from wrong.
"""

from __future__ import annotations

import math
import os

import nbformat
import numpy as np
import pytest
from course_files import ROOT, load_test_module

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SOLUTION = ROOT / "solutions" / "tensors.ipynb"


@pytest.fixture(scope="module")
def tf(tensorflow):
    return tensorflow


def test_stateless_draws_kept_in_the_tests_match_this_tensorflow(tf):
    public = load_test_module("tensors", "public/test_lab_values.py")
    hidden = load_test_module("tensors", "hidden/test_tensors.py")
    lab = tf.random.stateless_uniform([10, 10], seed=(3, 3), minval=1, maxval=10, dtype=tf.int32)
    assert lab.numpy().tolist() == public.LAB_MATRIX
    for (shape, seed, low, high), expected in hidden.FRESH_DRAWS.items():
        draw = tf.random.stateless_uniform(
            list(shape), seed=seed, minval=low, maxval=high, dtype=tf.int32
        )
        assert draw.numpy().tolist() == expected, (shape, seed)
        assert np.min(expected) >= low and np.max(expected) < high  # maxval is excluded


def test_adam_replay_is_keras_adam(tf):
    regression = load_test_module("tensors", "hidden/test_regression.py")
    x, y = regression.fresh_data(1, rows=12, features=2)
    w_ref, b_ref, losses_ref = regression.reference_adam(x, y, 0.05, 6)
    w = tf.Variable(tf.zeros([2]))
    b = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.Adam(0.05)
    losses = []
    for _ in range(6):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(tf.linalg.matvec(x, w) + b - y))
        losses.append(float(loss))
        optimizer.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b], strict=True))
    assert np.allclose(losses, losses_ref, rtol=1e-5)
    assert np.allclose(w.numpy(), w_ref, rtol=1e-4, atol=1e-6)
    assert abs(float(b) - b_ref) < 1e-5
    # Plain gradient descent at the same rate is far away: the replay tells them apart.
    design = np.hstack([x, np.ones((len(x), 1))]).astype(np.float64)
    sgd = -0.05 * 2 * design.T @ (-y.astype(np.float64))
    assert np.max(np.abs(sgd[:-1] - regression.reference_adam(x, y, 0.05, 1)[0])) > 0.1


def test_lab_regression_optimum_is_the_curriculum_number():
    namespace: dict = {"np": np}
    for cell in nbformat.read(SOLUTION, as_version=4).cells:
        if cell.cell_type == "code" and cell.source.startswith("X_lab"):
            setup = cell.source.split("lab_fit =")[0]
            exec(setup, namespace)  # noqa: S102 - our own reference notebook
    design = np.hstack([namespace["X_lab"], np.ones((8, 1))])
    solution = np.linalg.lstsq(design, namespace["y_lab"], rcond=None)[0]
    sse = float(np.sum((design @ solution - namespace["y_lab"]) ** 2))
    assert abs(sse - 0.3442891347592554) < 1e-9
    assert np.allclose(solution, [-0.1875724, 1.02635523, 0.62631629, 6.005718762609471])


def test_curriculum_values_of_the_public_tests():
    x, y = np.array([[1, 2], [3, 4]]), np.array([[5, 6], [7, 8]])
    assert (x @ y.T).tolist() == [[17, 23], [39, 53]] and (x @ y).tolist() != [[17, 23], [39, 53]]
    assert 9 * 2**2 + 8 * 2 == 52 and 2.5**2 == 6.25
    assert sorted(np.roots([1, -4, 4]).real.tolist()) == [2.0, 2.0]
    assert abs(math.dist((3, 2), (4, 6)) - 4.1231055) < 1e-6  # float32 print of sqrt(17)


def test_hidden_inputs_separate_right_from_wrong():
    calculus = load_test_module("tensors", "hidden/test_calculus.py")
    for function, x, expected in calculus.FIRST:
        # A formula for the lab's cubic (9x^2 + 8x) must fail on every non-cubic function.
        assert calculus.close(9 * x**2 + 8 * x, expected) == (function == "cubic")
    for function, x, expected in calculus.SECOND:
        assert calculus.close(x**2, expected) == (function == "quartic")
    numeric = {"sin": math.sin, "exp": math.exp, "tanh": math.tanh}  # keras.tf_function names
    assert {f for f, _, _ in calculus.FIRST + calculus.SECOND} <= {*numeric, "cubic", "quartic"}
    for function, x, expected in calculus.FIRST + calculus.SECOND:
        if function in numeric:
            h, f = 1e-4, numeric[function]
            order_one = (f(x + h) - f(x - h)) / (2 * h)
            order_two = (f(x + h) - 2 * f(x) + f(x - h)) / h**2
            numerical = order_two if (function, x, expected) in calculus.SECOND else order_one
            assert math.isclose(expected, numerical, rel_tol=1e-5, abs_tol=1e-6)
    assert all(b * b - 4 * a * c >= 0 for a, b, c in calculus.REAL)
    assert all(b * b - 4 * a * c < 0 for a, b, c in calculus.NO_REAL)
    assert calculus.NOT_QUADRATIC[0] == 0
    assert any(a < 0 for a, _, _ in calculus.REAL)  # a naive (-b - sqrt) / 2a is then larger
    assert not calculus.close(float("nan"), 1.0)


def test_variable_cases_catch_rebinding():
    """After a rebinding square_in_place the caller still holds its values: they differ."""
    for values in (np.array([[1.5, -2.0], [3.0, 0.5]]), np.arange(-3, 4)):
        assert not np.array_equal(values, values**2)
