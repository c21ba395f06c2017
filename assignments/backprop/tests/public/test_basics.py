"""Public checks for the backprop lab: shapes and a few values you can verify by hand.

Run them yourself with ``grader check your_notebook.ipynb``. Passing them does not mean
full marks: the hidden tests check the same functions on random networks and data.
"""

from __future__ import annotations

import numpy as np


def _array(value: object, what: str) -> np.ndarray:
    """A float64 copy of a returned array, or a failure that says what came back."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value.astype(np.float64)
    raise AssertionError(f"{what} returned a {type(value).__name__}, expected a NumPy array")


def test_sigmoid_basics(nb):
    z = np.array([[-3.0, -1.0, 0.0], [0.5, 2.0, 4.0]])
    out = _array(nb.call("sigmoid", z), "sigmoid(z)")
    assert out.shape == z.shape, (
        f"sigmoid of a {z.shape} array returned shape {out.shape}: it must work element-wise"
    )
    assert abs(out[0, 2] - 0.5) < 1e-12, f"sigmoid(0) is {out[0, 2]}, expected 0.5"
    expected = 1.0 / (1.0 + np.exp(-z))
    assert np.max(np.abs(out - expected)) < 1e-12, "sigmoid(z) does not equal 1 / (1 + exp(-z))"


def test_init_params_shapes(nb):
    params = nb.call("init_params", [2, 4, 1], 0)
    assert isinstance(params, dict), (
        f"init_params returned a {type(params).__name__}, expected a dict of arrays"
    )
    expected = {"W1": (2, 4), "b1": (1, 4), "W2": (4, 1), "b2": (1, 1)}
    assert sorted(params) == sorted(expected), (
        f"init_params([2, 4, 1], 0) has keys {sorted(params)}, expected {sorted(expected)}"
    )
    for key, shape in expected.items():
        value = _array(params[key], f"init_params()['{key}']")
        assert value.shape == shape, f"{key} has shape {value.shape}, expected {shape}"
    total = sum(np.asarray(v).size for v in params.values())
    assert total == 17, f"a 2-4-1 network has 17 parameters; yours has {total}"


def test_forward_shape(nb):
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    params = nb.call("init_params", [2, 4, 1], 0)
    result = nb.call("forward", params, x)
    assert isinstance(result, tuple | list) and len(result) == 2, (
        "forward(params, X) must return a pair (Y_hat, cache)"
    )
    y_hat = _array(result[0], "forward(params, X)[0]")
    assert y_hat.shape == (4, 1), f"Y_hat has shape {y_hat.shape}, expected (4, 1) for 4 examples"
    assert np.all((y_hat > 0) & (y_hat < 1)), "Y_hat must lie in (0, 1): a sigmoid on every layer"


def test_loss_basics(nb):
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    perfect = float(nb.call("loss", y.copy(), y))
    assert perfect == 0.0, f"loss(Y, Y) is {perfect}, expected 0.0"
    value = float(nb.call("loss", np.full((4, 1), 0.5), y))
    assert abs(value - 0.25) < 1e-12, f"loss of 0.5 everywhere against XOR is {value}, not 0.25"
