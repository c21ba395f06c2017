"""Hidden tests for the optimizers lab: the loss, its gradient and one step.

Inputs are fresh random data drawn here; the expected values are computed here, so a
function that only works on the lab's seed-42 data, or updates the bias with lr ** 2
(one seed manual's bug), fails.
"""

from __future__ import annotations

import numpy as np


def random_problem(seed: int, rows: int | None = None):
    """A noisy line with random slope and intercept, and a random starting point."""
    rng = np.random.default_rng([seed, 2024])
    n = int(rows or rng.integers(5, 40))
    x = rng.uniform(-1.0, 2.0, size=(n, 1))
    y = rng.normal(0, 2) * x + rng.normal(0, 2) + 0.1 * rng.normal(size=(n, 1))
    return x, y, float(rng.normal()), float(rng.normal())


def reference_gradients(x, y, w, b):
    error = w * x + b - y
    return float(np.mean(2 * x * error)), float(np.mean(2 * error))


def number(value: object, what: str) -> float:
    """One float from a returned scalar or size-1 array, or a failure saying what it was."""
    try:
        array = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} is not a number") from None
    assert array.size == 1, f"{what} must be one number, not {array.size} values"
    return float(array[0])


def close(got: float, expected: float, tol: float = 1e-10) -> bool:
    return abs(got - expected) <= tol * max(1.0, abs(expected))


def test_mse_on_random_data(nb):
    for seed in range(4):
        x, y, w, b = random_problem(seed)
        got = number(nb.call("mse", x, y, w, b), "mse(X, y, W, b)")
        expected = float(np.mean((w * x + b - y) ** 2))
        assert close(got, expected), (
            f"mse on {len(x)} random points is {got:.8g}, expected mean((W x + b - y)^2) "
            f"= {expected:.8g}"
        )


def test_gradients_on_random_data(nb):
    h = 1e-6
    for seed in range(4, 9):
        x, y, w, b = random_problem(seed, rows=1 if seed == 4 else None)
        result = nb.call("gradients", x, y, w, b)
        assert isinstance(result, tuple | list) and len(result) == 2, (
            "gradients must return the pair (dW, db)"
        )
        d_w, d_b = number(result[0], "dW"), number(result[1], "db")
        exp_w, exp_b = reference_gradients(x, y, w, b)
        assert close(d_w, exp_w) and close(d_b, exp_b), (
            f"on {len(x)} random rows gradients gives ({d_w:.6g}, {d_b:.6g}), expected "
            f"({exp_w:.6g}, {exp_b:.6g}): the mean of 2 x e and of 2 e over the rows"
        )
        # The gradient must also be the derivative of the student's own mse.
        plus = number(nb.call("mse", x, y, w + h, b), "mse")
        minus = number(nb.call("mse", x, y, w - h, b), "mse")
        numeric = (plus - minus) / (2 * h)
        assert abs(numeric - d_w) <= 1e-5 * max(1.0, abs(d_w)), (
            f"dW = {d_w:.6g} but centred differences of your mse give {numeric:.6g}"
        )


def test_gd_step_on_random_data(nb):
    rng = np.random.default_rng(77)
    for seed in range(9, 14):
        x, y, w, b = random_problem(seed, rows=1 if seed == 9 else None)
        lr = float(rng.uniform(0.01, 0.5))
        result = nb.call("gd_step", x, y, w, b, lr)
        assert isinstance(result, tuple | list) and len(result) == 2, (
            "gd_step must return the pair (W, b)"
        )
        new_w, new_b = number(result[0], "W"), number(result[1], "b")
        d_w, d_b = reference_gradients(x, y, w, b)
        assert close(new_w, w - lr * d_w), (
            f"after one step (lr {lr:.3f}) W is {new_w:.8g}, expected W - lr dW = "
            f"{w - lr * d_w:.8g}"
        )
        assert close(new_b, b - lr * d_b), (
            f"after one step (lr {lr:.3f}) b is {new_b:.8g}, expected b - lr db = "
            f"{b - lr * d_b:.8g}: the bias moves by lr * db, like W (not lr ** 2)"
        )
