"""Hidden tests for the backprop lab: forward and backward on random networks.

The parameters and data are the grader's (random, seeded here, biases non-zero), so a
network that only works for XOR or for zero biases fails. Two kinds of evidence for
``backward``: it agrees with centred differences of the student's own ``forward`` and
``loss`` (checks.gradient_check), and it agrees with the exact gradient computed here.
"""

from __future__ import annotations

import numpy as np

from grader import checks
from grader.datasets import regression_data

#: (layer sizes, seed) of the random networks the gradients are checked on.
NETWORKS = (([3, 5, 2], 11), ([2, 4, 3, 1], 12), ([4, 1], 13))
#: Relative error tolerated between analytic and numerical gradients (correct: ~3e-8).
GRADIENT_TOLERANCE = 1e-5
#: Between two analytic gradients only rounding differs.
EXACT_TOLERANCE = 1e-7


def reference_sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def random_params(sizes: list[int], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 7])
    params = {}
    for layer in range(1, len(sizes)):
        params[f"W{layer}"] = rng.normal(0.0, 0.8, size=(sizes[layer - 1], sizes[layer]))
        params[f"b{layer}"] = rng.normal(0.0, 0.3, size=(1, sizes[layer]))
    return params


def reference_forward(params: dict[str, np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """Every activation, A0 = X to AL."""
    activations = [x]
    for layer in range(1, len(params) // 2 + 1):
        z = activations[-1] @ params[f"W{layer}"] + params[f"b{layer}"]
        activations.append(reference_sigmoid(z))
    return activations


def reference_gradients(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray):
    activations = reference_forward(params, x)
    d_activation = 2.0 * (activations[-1] - y) / y.size
    grads = {}
    for layer in range(len(params) // 2, 0, -1):
        a = activations[layer]
        d_z = d_activation * a * (1.0 - a)
        grads[f"dW{layer}"] = activations[layer - 1].T @ d_z
        grads[f"db{layer}"] = d_z.sum(axis=0, keepdims=True)
        d_activation = d_z @ params[f"W{layer}"].T
    return grads


def _forward(nb, params, x):
    result = nb.call("forward", params, x)
    assert isinstance(result, tuple | list) and len(result) == 2, (
        "forward(params, X) must return a pair (Y_hat, cache)"
    )
    y_hat, cache = result
    assert isinstance(y_hat, np.ndarray), f"Y_hat is a {type(y_hat).__name__}, not an array"
    return y_hat, cache


def test_forward_matches_reference(nb):
    for sizes, seed in NETWORKS:
        params = random_params(sizes, seed)
        for rows in (9, 1):
            x = np.random.default_rng([seed, rows]).normal(size=(rows, sizes[0]))
            y_hat, _ = _forward(nb, params, x)
            assert y_hat.shape == (rows, sizes[-1]), (
                f"for layers {sizes} and {rows} examples Y_hat has shape {y_hat.shape}, "
                f"expected {(rows, sizes[-1])}"
            )
            assert y_hat.dtype == np.float64, f"Y_hat has dtype {y_hat.dtype}, expected float64"
            error = float(np.max(np.abs(y_hat - reference_forward(params, x)[-1])))
            assert error < 1e-10, (
                f"forward is off by up to {error:.1e} for layers {sizes} with non-zero biases: "
                "apply A @ W + b and a sigmoid on every layer"
            )


def test_gradient_check(nb):
    for sizes, seed in NETWORKS:
        x, y = regression_data(8, sizes[0], sizes[-1], seed)
        result = checks.gradient_check(nb, random_params(sizes, seed), x, y)
        try:
            checks.expect_gradients_match(result, tol=GRADIENT_TOLERANCE)
        except AssertionError as exc:
            raise AssertionError(f"layers {sizes}: {exc}") from None


def test_gradients_match_reference(nb):
    for sizes, seed in NETWORKS:
        params = random_params(sizes, seed)
        x, y = regression_data(5, sizes[0], sizes[-1], seed + 100)
        _, cache = _forward(nb, params, x)
        grads = nb.call("backward", params, cache, y)
        assert isinstance(grads, dict), (
            f"backward returned a {type(grads).__name__}, expected a dict of gradients"
        )
        for key, expected in reference_gradients(params, x, y).items():
            assert key in grads, f"backward returned no {key} (keys: {sorted(grads)})"
            got = grads[key]
            assert isinstance(got, np.ndarray) and got.shape == expected.shape, (
                f"{key} must be an array of shape {expected.shape}, like its parameter"
            )
            error = checks.relative_error(got, expected)
            assert error < EXACT_TOLERANCE, (
                f"layers {sizes}: {key} differs from the exact gradient (relative error "
                f"{error:.1e}); check the chain rule and the 2 / (N n_L) factor"
            )


def test_backward_is_analytic(nb):
    sizes, seed = NETWORKS[0]
    x, y = regression_data(8, sizes[0], sizes[-1], seed)
    result = checks.gradient_check(nb, random_params(sizes, seed), x, y)
    # One call is allowed (recomputing the activations); finite differences need dozens.
    checks.expect_analytic_backward(result, max_forward_calls=1)
