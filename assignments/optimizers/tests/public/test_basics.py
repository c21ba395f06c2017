"""Public checks for the optimizers lab: a loss, a gradient and a step you can do by hand.

Run them yourself with ``grader check your_notebook.ipynb``. Passing them does not mean
full marks: the hidden tests run every optimiser on the lab's data and on fresh random data.
"""

from __future__ import annotations

import numpy as np

# Two points, (0, 1) and (1, 3), and the line W = 1, b = 0: errors -1 and -2.
X_TINY = np.array([[0.0], [1.0]])
Y_TINY = np.array([[1.0], [3.0]])


def _number(value: object, what: str) -> float:
    try:
        array = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} is not a number") from None
    assert array.size == 1, f"{what} must be one number, not {array.size} values"
    return float(array[0])


def test_mse_by_hand(nb):
    value = _number(nb.call("mse", X_TINY, Y_TINY, 1.0, 0.0), "mse(...)")
    assert abs(value - 2.5) < 1e-12, f"mse is {value}, expected ((-1)^2 + (-2)^2) / 2 = 2.5"


def test_gradients_by_hand(nb):
    result = nb.call("gradients", X_TINY, Y_TINY, 1.0, 0.0)
    assert isinstance(result, tuple | list) and len(result) == 2, (
        "gradients must return the pair (dW, db)"
    )
    d_w, d_b = _number(result[0], "dW"), _number(result[1], "db")
    assert abs(d_w - (-2.0)) < 1e-12, f"dW is {d_w}, expected mean(2 x e) = (0 - 4) / 2 = -2"
    assert abs(d_b - (-3.0)) < 1e-12, f"db is {d_b}, expected mean(2 e) = (-2 - 4) / 2 = -3"


def test_gd_step_by_hand(nb):
    result = nb.call("gd_step", X_TINY, Y_TINY, 1.0, 0.0, 0.1)
    assert isinstance(result, tuple | list) and len(result) == 2, "gd_step must return (W, b)"
    w, b = _number(result[0], "W"), _number(result[1], "b")
    assert abs(w - 1.2) < 1e-12 and abs(b - 0.3) < 1e-12, (
        f"one step with lr 0.1 gives W = {w:.6g}, b = {b:.6g}; expected W = 1 - 0.1 * (-2) = 1.2 "
        "and b = 0 - 0.1 * (-3) = 0.3"
    )
