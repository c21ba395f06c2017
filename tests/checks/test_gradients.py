"""Gradient check of a hand-written NumPy MLP (the backprop assignment's interface)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grader.checks import (
    GradientCheck,
    expect_analytic_backward,
    expect_gradients_match,
    gradient_check,
    relative_error,
)

CELLS = [
    """
import sys
import numpy as np

def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))

def init_params(layer_sizes, seed):
    rng = np.random.default_rng(seed)
    params = {}
    for l, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        params[f"W{l}"] = rng.normal(scale=1.0, size=(n_in, n_out))
        params[f"b{l}"] = rng.normal(scale=0.1, size=(1, n_out))
    return params

def forward(params, X):
    layers = len(params) // 2
    A = X
    cache = {"A0": X}
    for l in range(1, layers + 1):
        A = sigmoid(A @ params[f"W{l}"] + params[f"b{l}"])
        cache[f"A{l}"] = A
    return A, cache

def loss(Y_hat, Y):
    return np.mean((Y_hat - Y) ** 2)

def backward(params, cache, Y):
    layers = len(params) // 2
    A = cache[f"A{layers}"]
    dA = 2 * (A - Y) / Y.size
    grads = {}
    for l in range(layers, 0, -1):
        A = cache[f"A{l}"]
        dZ = dA * A * (1 - A)
        grads[f"dW{l}"] = cache[f"A{l - 1}"].T @ dZ
        grads[f"db{l}"] = dZ.sum(axis=0, keepdims=True)
        dA = dZ @ params[f"W{l}"].T
    return grads

def backward_sign_flipped(params, cache, Y):
    grads = backward(params, cache, Y)
    grads["dW2"] = -grads["dW2"]
    return grads

def backward_without_2_over_n(params, cache, Y):
    grads = backward(params, cache, Y)
    return {k: v * Y.size / 2 for k, v in grads.items()}

def backward_transposed(params, cache, Y):
    grads = backward(params, cache, Y)
    grads["dW1"] = grads["dW1"].T
    return grads

def backward_missing_bias(params, cache, Y):
    grads = backward(params, cache, Y)
    del grads["db1"]
    return grads

def backward_by_differences(params, cache, Y):
    '''Passes on values alone: it differentiates forward numerically.'''
    X = cache["A0"]
    grads = {}
    for key, value in params.items():
        grad = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[key][i] += 1e-6
            minus[key][i] -= 1e-6
            grad[i] = (loss(forward(plus, X)[0], Y) - loss(forward(minus, X)[0], Y)) / 2e-6
        grads["d" + key] = grad
    return grads

def backward_nan(params, cache, Y):
    grads = backward(params, cache, Y)
    grads["db2"] = grads["db2"] * np.nan
    return grads

P = init_params([2, 4, 1], 0)
P_BEFORE = {k: v.copy() for k, v in P.items()}
"""
]


def data(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8, 2))
    return x, (x[:, :1] * x[:, 1:] > 0).astype(np.float64)


def params(sizes: list[int], seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=False), start=1):
        out[f"W{layer}"] = rng.normal(size=(n_in, n_out))
        out[f"b{layer}"] = rng.normal(scale=0.1, size=(1, n_out))
    return out


def test_correct_backward_passes_and_never_calls_forward(nb):
    x, y = data()
    result = gradient_check(nb, params([2, 4, 3, 1]), x, y)
    assert set(result.errors) == {"dW1", "db1", "dW2", "db2", "dW3", "db3"}
    assert max(result.errors.values()) < 1e-6
    assert result.forward_calls_in_backward == 0
    expect_gradients_match(result, tol=1e-5)
    expect_analytic_backward(result)
    assert nb.measured["forward_calls_in_backward"] == 0


def test_one_flipped_sign_fails_while_shapes_are_right(nb):
    x, y = data()
    result = gradient_check(nb, params([2, 4, 1]), x, y, backward="backward_sign_flipped")
    assert not result.wrong_shapes and not result.missing
    assert result.errors["dW1"] < 1e-6
    assert result.errors["dW2"] == pytest.approx(1.0)
    with pytest.raises(AssertionError) as failure:
        expect_gradients_match(result)
    assert str(failure.value) == (
        "dW2 does not match the numerical gradient: relative error 1 (tolerance 1.00e-05)"
    )


def test_missing_two_over_n_factor_fails(nb):
    x, y = data()
    result = gradient_check(nb, params([2, 4, 1]), x, y, backward="backward_without_2_over_n")
    with pytest.raises(AssertionError, match="does not match the numerical gradient"):
        expect_gradients_match(result)


def test_wrong_shapes_and_missing_keys_are_named(nb):
    x, y = data()
    transposed = gradient_check(nb, params([2, 4, 1]), x, y, backward="backward_transposed")
    with pytest.raises(AssertionError, match=r"^dW1 has shape \(4, 2\), expected \(2, 4\)$"):
        expect_gradients_match(transposed)
    missing = gradient_check(nb, params([2, 4, 1]), x, y, backward="backward_missing_bias")
    with pytest.raises(AssertionError, match="^backward returned no db1$"):
        expect_gradients_match(missing)


def test_nan_gradients_fail(nb):
    x, y = data()
    result = gradient_check(nb, params([2, 4, 1]), x, y, backward="backward_nan")
    assert math.isnan(result.errors["db2"])
    with pytest.raises(AssertionError, match="db2 does not match .* relative error nan"):
        expect_gradients_match(result, tol=1.0)


def test_finite_difference_backward_passes_on_values_but_is_caught(nb):
    x, y = data()
    result = gradient_check(nb, params([2, 4, 1]), x, y, backward="backward_by_differences")
    expect_gradients_match(result, tol=1e-5)  # the values alone cannot tell
    assert result.forward_calls_in_backward == 2 * 17
    with pytest.raises(AssertionError, match="backward called forward 34 times"):
        expect_analytic_backward(result)


def test_kernel_params_are_not_mutated_and_large_params_can_be_sampled(nb):
    x, y = data()
    result = gradient_check(nb, "P", x, y, max_entries=3)
    expect_gradients_match(result)
    before, after = nb.get("P_BEFORE"), nb.get("P")
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_relative_error_is_the_elementwise_cs231n_measure():
    a = np.array([1.0, 1e-9, 0.0])
    b = np.array([1.0, 3e-9, 0.0])
    # |1e-9 - 3e-9| / max(1e-8, 4e-9) = 0.2: tiny entries are floored, not blown up.
    assert relative_error(a, b) == pytest.approx(0.2)
    assert relative_error(np.array([1.0]), np.array([-1.0])) == 1.0
    assert math.isnan(relative_error(np.array([np.nan]), np.array([1.0])))
    empty = GradientCheck(errors={}, missing=[], wrong_shapes={}, forward_calls_in_backward=0)
    with pytest.raises(AssertionError, match="no gradients to check"):
        expect_gradients_match(empty)


def test_numpy_only_probes_do_not_import_frameworks(nb):
    x, y = data()
    gradient_check(nb, params([2, 3, 1]), x, y)
    nb.probe("env.seed_all", seed=0)
    nb.probe("env.rng_fingerprint")
    assert nb.probe("env.accelerators") == {"torch_imported": False, "tensorflow_imported": False}
    for module in ("torch", "tensorflow", "keras"):
        assert nb.call("sys.modules.__contains__", module) is False, module
