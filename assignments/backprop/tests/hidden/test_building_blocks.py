"""Hidden tests for the backprop lab: sigmoid, init_params and loss on the grader's inputs.

Inputs are drawn here with seeds the students do not see; the expected values are
computed here, in the grader's process, and only the student's raw results come back
from the kernel.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from grader.bridge import StudentError

#: Where a literal 1 / (1 + np.exp(-z)) overflows (exp(-z) for z below about -709).
EXTREME_Z = np.array([-1000.0, -745.0, -710.0, -60.0, -1e-3, 0.0, 1e-3, 60.0, 710.0, 1000.0])


def reference_sigmoid(z: np.ndarray) -> np.ndarray:
    """exp(-log(1 + exp(-z))), computed without overflow by logaddexp."""
    return np.exp(-np.logaddexp(0.0, -z))


def _array(value: object, what: str) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value.astype(np.float64)
    raise AssertionError(f"{what} returned a {type(value).__name__}, expected a NumPy array")


@contextmanager
def numpy_raises_on_overflow(nb) -> Iterator[None]:
    """Make the notebook's NumPy raise where it would warn (overflow, invalid, divide).

    A warning is printed in the kernel and lost; an exception comes back to the test.
    Underflow (exp(-1000) -> 0.0) is harmless and stays ignored.
    """
    assert nb.exists("np"), "the notebook must import numpy as np"
    previous = nb.call("np.seterr", over="raise", invalid="raise", divide="raise")
    try:
        yield
    finally:
        nb.call("np.seterr", **previous)


def test_sigmoid_values(nb):
    rng = np.random.default_rng(51_873)
    for shape in ((7, 3), (11,), (2, 3, 4)):
        z = rng.normal(0.0, 4.0, size=shape)
        out = _array(nb.call("sigmoid", z), "sigmoid(z)")
        assert out.shape == z.shape, (
            f"sigmoid of a {z.shape} array returned shape {out.shape}: work element-wise"
        )
        error = float(np.max(np.abs(out - reference_sigmoid(z))))
        assert error < 1e-12, (
            f"sigmoid is off by up to {error:.1e} on random inputs: compare with 1 / (1 + exp(-z))"
        )


def test_sigmoid_no_overflow(nb):
    with numpy_raises_on_overflow(nb):
        try:
            raw = nb.call("sigmoid", EXTREME_Z.copy())
        except StudentError as exc:
            if exc.type_name == "FloatingPointError":
                raise AssertionError(
                    f"sigmoid overflows for large |z| ({exc.message}; NumPy prints a "
                    "RuntimeWarning): only ever take exp of -|z|"
                ) from None
            raise
    out = _array(raw, "sigmoid(z)")
    assert np.all(np.isfinite(out)), f"sigmoid gave {out} for z = {EXTREME_Z}: NaN or inf"
    error = float(np.max(np.abs(out - reference_sigmoid(EXTREME_Z))))
    assert error < 1e-12, (
        f"sigmoid is off by up to {error:.1e} for large |z| (sigmoid(1000) = 1, sigmoid(-1000) = 0)"
    )


def _expected_shapes(sizes: list[int]) -> dict[str, tuple[int, int]]:
    shapes = {}
    for layer in range(1, len(sizes)):
        shapes[f"W{layer}"] = (sizes[layer - 1], sizes[layer])
        shapes[f"b{layer}"] = (1, sizes[layer])
    return shapes


def test_init_params_shapes(nb):
    for sizes, total in (([2, 4, 3, 1], 31), ([5, 3, 2], 26), ([3, 6, 6, 2, 4], 92)):
        params = nb.call("init_params", sizes, 17)
        assert isinstance(params, dict), (
            f"init_params returned a {type(params).__name__}, expected a dict"
        )
        expected = _expected_shapes(sizes)
        assert sorted(params) == sorted(expected), (
            f"init_params({sizes}, seed) has keys {sorted(params)}, expected {sorted(expected)}"
        )
        for key, shape in expected.items():
            value = params[key]
            assert isinstance(value, np.ndarray), f"{key} is a {type(value).__name__}, not an array"
            assert value.shape == shape, (
                f"for layers {sizes}, {key} has shape {value.shape}, expected {shape}"
            )
            assert value.dtype == np.float64, f"{key} has dtype {value.dtype}, expected float64"
            assert np.all(np.isfinite(value)), f"{key} holds NaN or infinite values"
        count = sum(v.size for v in params.values())
        assert count == total, f"layers {sizes} have {total} parameters; yours have {count}"


def test_init_params_seeded(nb):
    sizes = [3, 5, 2]
    first = nb.call("init_params", sizes, 2024)
    again = nb.call("init_params", sizes, 2024)
    other = nb.call("init_params", sizes, 7)
    for key in ("W1", "W2"):
        assert np.array_equal(first[key], again[key]), (
            f"init_params with the same seed gave different {key}: use np.random.default_rng(seed)"
        )
        spread = float(np.ptp(first[key]))
        assert spread > 1e-3, (
            f"all entries of {key} are equal: equal weights make every hidden unit learn the same"
        )
    assert not np.array_equal(first["W1"], other["W1"]), (
        "init_params with different seeds gave the same weights: the seed is not used"
    )


def test_loss_matches_mse(nb):
    rng = np.random.default_rng(90_210)
    for shape in ((6, 2), (9, 1), (4, 3)):
        y_hat, y = rng.uniform(0, 1, size=shape), rng.uniform(0, 1, size=shape)
        raw = nb.call("loss", y_hat, y)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise AssertionError(
                f"loss returned a {type(raw).__name__}, expected a number"
            ) from None
        expected = float(np.mean((y_hat - y) ** 2))
        assert abs(value - expected) <= 1e-12 * max(1.0, expected), (
            f"loss is {value:.6g} for random {shape} arrays, expected mean((Y_hat - Y) ** 2) = "
            f"{expected:.6g}"
        )
