"""Hidden tests for the optimizers lab: SGD, mini-batch GD, momentum and Adam.

Every optimiser is run on the lab's seed-42 data (from the starting points the lab's call
order draws) and on fresh random data, and compared with the reference implementations
below, computed here. On the seed data the references give (SGD, lr 0.01, 50 epochs)
W = 1.92502407, b = 1.03508257; (mini-batch 10) W = 0.7911081086681657,
b = 1.5708653450938141; (momentum, beta 0.9) W = 1.94629625, b = 1.02554776; least
squares W = 1.9776566, b = 1.00966893 (tests/test_assignments_numpy_labs.py checks these).
"""

from __future__ import annotations

import numpy as np

from grader import checks

#: Hyperparameters of the lab (seed 000 E3).
LR, BATCH, EPOCHS, BETA = 0.01, 10, 50, 0.9
#: Relative tolerance between two exact implementations (summation order differs).
EXACT = 1e-9


def seed_data():
    """The lab's data and the four starting points, in the lab's order of random calls."""
    rng = np.random.RandomState(42)
    x = rng.rand(50, 1)
    y = 2 * x + 1 + 0.1 * rng.randn(50, 1)
    starts = {}
    for method in ("sgd", "minibatch", "momentum", "adam"):
        starts[method] = (float(rng.randn()), float(rng.randn()))
    return x, y, starts


def random_problem(seed: int):
    rng = np.random.default_rng([seed, 4242])
    n = int(rng.integers(12, 40))
    x = rng.uniform(0.0, 1.5, size=(n, 1))
    y = rng.normal(0, 2) * x + rng.normal(0, 2) + 0.1 * rng.normal(size=(n, 1))
    return x, y, float(rng.normal()), float(rng.normal())


def ref_gradients(x, y, w, b):
    error = w * x + b - y
    return float(np.mean(2 * x * error)), float(np.mean(2 * error))


def ref_mse(x, y, w, b):
    return float(np.mean((w * x + b - y) ** 2))


def ref_minibatch(x, y, w, b, lr, batch_size, epochs):
    losses = []
    for _ in range(epochs):
        for start in range(0, len(x), batch_size):
            d_w, d_b = ref_gradients(
                x[start : start + batch_size], y[start : start + batch_size], w, b
            )
            w, b = w - lr * d_w, b - lr * d_b
        losses.append(ref_mse(x, y, w, b))
    return w, b, losses


def ref_sgd(x, y, w, b, lr, epochs):
    return ref_minibatch(x, y, w, b, lr, 1, epochs)


def ref_momentum(x, y, w, b, lr, beta, epochs):
    v_w = v_b = 0.0
    losses = []
    for _ in range(epochs):
        for i in range(len(x)):
            d_w, d_b = ref_gradients(x[i : i + 1], y[i : i + 1], w, b)
            v_w, v_b = beta * v_w + (1 - beta) * d_w, beta * v_b + (1 - beta) * d_b
            w, b = w - lr * v_w, b - lr * v_b
        losses.append(ref_mse(x, y, w, b))
    return w, b, losses


def ref_adam(x, y, w, b, lr, batch_size, epochs, beta1=0.9, beta2=0.999, eps=1e-8):
    theta, m, v, t = np.array([w, b]), np.zeros(2), np.zeros(2), 0
    losses = []
    for _ in range(epochs):
        for start in range(0, len(x), batch_size):
            rows = slice(start, start + batch_size)
            g = np.array(ref_gradients(x[rows], y[rows], theta[0], theta[1]))
            t += 1
            m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g**2
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
            theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        losses.append(ref_mse(x, y, theta[0], theta[1]))
    return float(theta[0]), float(theta[1]), losses


def number(value: object, what: str) -> float:
    try:
        array = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} is not a number") from None
    assert array.size == 1, f"{what} must be one number, not {array.size} values"
    return float(array[0])


def run(nb, function: str, *args, **kwargs) -> tuple[float, float, list[float]]:
    """Call an optimiser; return (W, b, losses) as plain floats."""
    result = nb.call(function, *args, **kwargs)
    assert isinstance(result, tuple | list) and len(result) == 3, (
        f"{function} must return (W, b, losses)"
    )
    try:
        losses = [float(v) for v in np.asarray(result[2], dtype=np.float64).reshape(-1)]
    except (TypeError, ValueError):
        raise AssertionError(f"the losses {function} returned are not numbers") from None
    return number(result[0], f"{function}'s W"), number(result[1], f"{function}'s b"), losses


def expect_same(got, expected, what: str) -> None:
    """W, b and every epoch's loss within EXACT (relative) of the reference."""
    w, b, losses = got
    exp_w, exp_b, exp_losses = expected
    ok = all(abs(g - e) <= EXACT * max(1.0, abs(e)) for g, e in ((w, exp_w), (b, exp_b)))
    assert ok, (
        f"{what}: got W = {w:.10g}, b = {b:.10g}; expected W = {exp_w:.10g}, b = {exp_b:.10g}"
    )
    assert len(losses) == len(exp_losses), (
        f"{what}: {len(losses)} losses returned, expected one per epoch ({len(exp_losses)})"
    )
    worst = max(abs(g - e) / max(1.0, abs(e)) for g, e in zip(losses, exp_losses, strict=True))
    assert worst <= EXACT, f"{what}: W and b are right but the losses differ (by {worst:.1e})"


def test_sgd_exact(nb):
    x, y, starts = seed_data()
    expected = ref_sgd(x, y, *starts["sgd"], LR, EPOCHS)
    expect_same(run(nb, "sgd", x, y, *starts["sgd"], LR, EPOCHS), expected, "sgd on the lab data")
    for seed in range(3):
        x, y, w, b = random_problem(seed)
        expected = ref_sgd(x, y, w, b, 0.05, 7)
        expect_same(run(nb, "sgd", x, y, w, b, 0.05, 7), expected, "sgd on random data")


def test_minibatch_exact(nb):
    x, y, starts = seed_data()
    expected = ref_minibatch(x, y, *starts["minibatch"], LR, BATCH, EPOCHS)
    got = run(nb, "minibatch_gd", x, y, *starts["minibatch"], LR, BATCH, EPOCHS)
    expect_same(got, expected, "minibatch_gd on the lab data")
    for seed, batch in ((3, 7), (4, 1), (5, 1000)):  # a short last batch; SGD; full batch
        x, y, w, b = random_problem(seed)
        expected = ref_minibatch(x, y, w, b, 0.1, batch, 6)
        got = run(nb, "minibatch_gd", x, y, w, b, 0.1, batch, 6)
        expect_same(got, expected, f"minibatch_gd with batch_size {batch} on {len(x)} rows")


def test_momentum_exact(nb):
    x, y, starts = seed_data()
    expected = ref_momentum(x, y, *starts["momentum"], LR, BETA, EPOCHS)
    got = run(nb, "momentum_sgd", x, y, *starts["momentum"], LR, BETA, EPOCHS)
    expect_same(got, expected, "momentum_sgd (beta 0.9) on the lab data")
    for seed, beta in ((6, 0.5), (7, 0.99)):
        x, y, w, b = random_problem(seed)
        expected = ref_momentum(x, y, w, b, 0.05, beta, 5)
        got = run(nb, "momentum_sgd", x, y, w, b, 0.05, beta, 5)
        expect_same(got, expected, f"momentum_sgd with beta {beta} on random data")


def test_momentum_beta_zero_is_sgd(nb):
    for seed in (8, 9):
        x, y, w, b = random_problem(seed)
        expected = ref_sgd(x, y, w, b, 0.05, 5)
        got = run(nb, "momentum_sgd", x, y, w, b, 0.05, 0.0, 5)
        expect_same(got, expected, "momentum_sgd with beta 0 is not plain SGD")


def test_adam_first_step_is_lr(nb):
    for seed, lr in ((10, 0.1), (11, 0.01), (12, 0.003)):
        x, y, w, b = random_problem(seed)
        new_w, new_b, _ = run(nb, "adam", x, y, w, b, lr, len(x), 1)
        d_w, d_b = ref_gradients(x, y, w, b)
        for name, step, grad in (("W", new_w - w, d_w), ("b", new_b - b, d_b)):
            assert abs(abs(step) - lr) <= 1e-6 * lr, (
                f"Adam's first step moved {name} by {abs(step):.4g} with lr {lr:g}: with bias "
                "correction (m / (1 - beta1^t), v / (1 - beta2^t)) the first step is lr"
            )
            assert step * grad < 0, f"Adam's first step moved {name} uphill"


def test_adam_exact(nb):
    for seed, batch, kwargs in ((13, 1, {}), (14, 7, {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6})):
        x, y, w, b = random_problem(seed)
        expected = ref_adam(x, y, w, b, 0.05, batch, 4, **kwargs)
        got = run(nb, "adam", x, y, w, b, 0.05, batch, 4, **kwargs)
        expect_same(got, expected, f"adam (batch {batch}, {kwargs or 'default betas'})")


def test_converges_near_least_squares(nb):
    x, y, starts = seed_data()
    design = np.hstack([x, np.ones_like(x)])
    w_ols, b_ols = np.linalg.lstsq(design, y, rcond=None)[0].ravel()
    runs = {
        "sgd": run(nb, "sgd", x, y, *starts["sgd"], LR, EPOCHS),
        "momentum_sgd": run(nb, "momentum_sgd", x, y, *starts["momentum"], LR, BETA, EPOCHS),
        "adam": run(nb, "adam", x, y, *starts["adam"], 0.1, BATCH, EPOCHS),
    }
    for function, (w, b, losses) in runs.items():
        nb.record(f"{function}_W", w)
        assert abs(w - w_ols) < 0.1 and abs(b - b_ols) < 0.1, (
            f"{function} ends at W = {w:.4f}, b = {b:.4f}, not within 0.1 of the least-squares "
            f"line W = {w_ols:.4f}, b = {b_ols:.4f}"
        )
        checks.expect_loss_decrease(losses, k=5, what=f"{function}'s loss")
