"""Hidden tests for the tensors lab's regression: Adam from zero on the summed squared error.

The grader draws its own data. Two checks, both against NumPy here:

* the first steps match Adam (Keras's update rule, beta1 0.9, beta2 0.999, epsilon 1e-7)
  replayed in float64 from W = 0, b = 0 on the summed squared error, with losses[i]
  measured before update i: so the optimizer, its learning rate, the loss and the start
  are the contract's;
* after 300 steps at learning rate 0.1 the coefficients are those of np.linalg.lstsq.
"""

from __future__ import annotations

import numpy as np

from grader import checks


def fresh_data(seed: int, rows: int, features: int):
    rng = np.random.default_rng([seed, 8])
    x = rng.normal(size=(rows, features)).astype(np.float32)
    w, b = rng.uniform(-2, 2, size=features), rng.uniform(-1, 1)
    y = (x @ w + b + 0.1 * rng.normal(size=rows)).astype(np.float32)
    return x, y


def reference_adam(x, y, learning_rate: float, steps: int):
    """(W, b, losses): Keras's Adam on sum((x W + b - y)^2), in float64, from zeros."""
    design = np.hstack([x.astype(np.float64), np.ones((len(x), 1))])
    params = np.zeros(design.shape[1])
    m, v, losses = np.zeros_like(params), np.zeros_like(params), []
    for step in range(1, steps + 1):
        residual = design @ params - y
        losses.append(float(residual @ residual))
        gradient = 2 * design.T @ residual
        m += (gradient - m) * 0.1
        v += (gradient**2 - v) * 0.001
        alpha = learning_rate * np.sqrt(1 - 0.999**step) / (1 - 0.9**step)
        params -= alpha * m / (np.sqrt(v) + 1e-7)
    return params[:-1], float(params[-1]), losses


def fitted(nb, x, y, learning_rate: float, steps: int):
    call = f"fit_linear_regression(X, y, {learning_rate}, {steps})"
    result = nb.call("fit_linear_regression", x, y, learning_rate, steps)
    assert isinstance(result, dict) and {"W", "b", "losses"} <= set(result), (
        f"{call} must return a dict with the keys 'W', 'b' and 'losses'"
    )
    try:
        w = np.asarray(result["W"], dtype=np.float64).reshape(-1)
        b = float(np.asarray(result["b"], dtype=np.float64).reshape(()))
        losses = [float(v) for v in result["losses"]]
    except (TypeError, ValueError):
        raise AssertionError(f"{call}: W, b and losses must be numbers") from None
    assert w.shape == (x.shape[1],), f"{call}: W has {w.size} entries for {x.shape[1]} features"
    assert len(losses) == steps, f"{call}: {len(losses)} losses for {steps} steps"
    return w, b, losses


def test_adam_steps_from_zero_on_summed_squared_error(nb):
    x, y = fresh_data(1, rows=12, features=2)
    w, b, losses = fitted(nb, x, y, 0.05, 4)
    want_w, want_b, want_losses = reference_adam(x, y, 0.05, 4)
    first = float(np.sum(y.astype(np.float64) ** 2))
    assert abs(losses[0] - first) <= 1e-4 * first, (
        f"losses[0] is {losses[0]:.6g}, expected {first:.6g}: the summed squared error at "
        "W = 0, b = 0, recorded before the first update (a mean would be "
        f"{first / len(y):.6g})"
    )
    assert np.allclose(losses, want_losses, rtol=1e-4, atol=1e-4), (
        f"the first 4 losses are {np.round(losses, 4).tolist()}, expected "
        f"{np.round(want_losses, 4).tolist()}"
    )
    assert np.allclose(w, want_w, rtol=1e-3, atol=1e-5) and abs(b - want_b) < 1e-5 + 1e-3 * abs(
        want_b
    ), (
        f"after 4 steps W = {np.round(w, 5).tolist()}, b = {b:.5f}; Adam at learning rate 0.05 "
        f"from zero gives W = {np.round(want_w, 5).tolist()}, b = {want_b:.5f}"
    )


def test_coefficients_approach_least_squares(nb):
    for seed, rows, features in ((2, 20, 3), (3, 30, 1)):
        x, y = fresh_data(seed, rows, features)
        w, b, losses = fitted(nb, x, y, 0.1, 300)
        design = np.hstack([x.astype(np.float64), np.ones((rows, 1))])
        solution = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)[0]
        best = float(np.sum((design @ solution - y) ** 2))
        checks.expect_loss_decrease(losses, k=10, what="summed squared error")
        gap = float(np.max(np.abs(np.append(w, b) - solution)))
        nb.record(f"coefficient_gap_{features}_features", gap)
        assert gap < 2e-3, (
            f"after 300 Adam steps (learning rate 0.1) the coefficients differ from least "
            f"squares by {gap:.3g} (W = {np.round(w, 4).tolist()}, b = {b:.4f}; least "
            f"squares W = {np.round(solution[:-1], 4).tolist()}, b = {solution[-1]:.4f})"
        )
        assert losses[-1] <= best * 1.01 + 1e-4, (
            f"the last loss {losses[-1]:.5g} is above the least-squares minimum {best:.5g}"
        )
