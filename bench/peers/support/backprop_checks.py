"""The backprop lab's tests, ported for the peers (Otter-Grader and nbgrader).

Both peers run tests *inside* the student's kernel, against its globals, so every check
here takes ``env`` (the notebook's global namespace) instead of dlgrader's ``nb``. Each
function mirrors one test of ``assignments/backprop/tests`` line for line: the same
inputs (seeds, shapes, networks), the same tolerances, the same work asked of the
student's code (16 XOR trainings with the notebook's own hyperparameters, or the lab's
defaults where it has none; gradient checks by centred differences with ``forward``
counted during ``backward``). A check
raises ``AssertionError`` to fail; ``xor_solved_fraction`` returns the fraction that the
rubric's bands turn into points.

``CRITERIA`` maps each criterion of ``rubrics/backprop.yaml`` to its points and checks,
so the Otter test files and the nbgrader test cells stay one line each.

This file goes beside the submission (Otter's support files, nbgrader's source folder),
so it imports nothing but NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

Env = dict[str, Any]


# -- data (grader.datasets.small, copied) -----------------------------------------------


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return x, np.array([[0], [1], [1], [0]], dtype=np.float64)


def regression_data(n: int, n_in: int, n_out: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, n, n_in, n_out])
    return rng.normal(size=(n, n_in)), rng.uniform(0.05, 0.95, size=(n, n_out))


# -- helpers ----------------------------------------------------------------------------


def reference_sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def _array(value: object, what: str) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value.astype(np.float64)
    raise AssertionError(f"{what} returned a {type(value).__name__}, expected a NumPy array")


def _fn(env: Env, name: str) -> Callable[..., Any]:
    function = env.get(name)
    if not callable(function):
        raise AssertionError(f"the notebook defines no function {name}")
    return function


def _copy(value: Any) -> Any:
    """What crossing dlgrader's wire does: the student's code gets its own copies."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_copy(v) for v in value)
    return value


def call(env: Env, name: str, *args: Any, **kwargs: Any) -> Any:
    return _fn(env, name)(*_copy(args), **_copy(kwargs))


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    ratio = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    return float(np.max(ratio)) if not np.isnan(ratio).any() else math.nan


def expect_loss_decrease(losses, *, k: int = 3, min_relative_drop: float = 0.0, what="loss"):
    values = [float(v) for v in losses]
    for step, value in enumerate(values):
        if not math.isfinite(value):
            raise AssertionError(f"the {what} became {value} at step {step + 1}")
    if len(values) < 2:
        raise AssertionError(f"need at least 2 values of the {what}")
    k = max(1, min(k, len(values) // 2))
    first, last = sum(values[:k]) / k, sum(values[-k:]) / k
    if not last < first - abs(first) * min_relative_drop:
        raise AssertionError(f"the {what} did not decrease: {first:.4g} -> {last:.4g}")


def _floats(values: object, what: str) -> list[float]:
    try:
        return [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]
    except (TypeError, ValueError):
        raise AssertionError(f"{what} is not a list of numbers") from None


# -- public tests -------------------------------------------------------------------------


def public_sigmoid_basics(env: Env) -> None:
    z = np.array([[-3.0, -1.0, 0.0], [0.5, 2.0, 4.0]])
    out = _array(call(env, "sigmoid", z), "sigmoid(z)")
    assert out.shape == z.shape, f"sigmoid returned shape {out.shape}"
    assert abs(out[0, 2] - 0.5) < 1e-12, f"sigmoid(0) is {out[0, 2]}, expected 0.5"
    assert np.max(np.abs(out - 1.0 / (1.0 + np.exp(-z)))) < 1e-12, "sigmoid is wrong"


def public_init_params_shapes(env: Env) -> None:
    params = call(env, "init_params", [2, 4, 1], 0)
    assert isinstance(params, dict), "init_params must return a dict"
    expected = {"W1": (2, 4), "b1": (1, 4), "W2": (4, 1), "b2": (1, 1)}
    assert sorted(params) == sorted(expected), f"keys {sorted(params)}"
    for key, shape in expected.items():
        assert _array(params[key], key).shape == shape, f"{key} has the wrong shape"
    assert sum(np.asarray(v).size for v in params.values()) == 17, "a 2-4-1 network has 17"


def public_forward_shape(env: Env) -> None:
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    params = call(env, "init_params", [2, 4, 1], 0)
    result = call(env, "forward", params, x)
    assert isinstance(result, tuple | list) and len(result) == 2, "forward returns a pair"
    y_hat = _array(result[0], "forward(params, X)[0]")
    assert y_hat.shape == (4, 1), f"Y_hat has shape {y_hat.shape}"
    assert np.all((y_hat > 0) & (y_hat < 1)), "Y_hat must lie in (0, 1)"


def public_loss_basics(env: Env) -> None:
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    assert float(call(env, "loss", y.copy(), y)) == 0.0, "loss(Y, Y) must be 0"
    value = float(call(env, "loss", np.full((4, 1), 0.5), y))
    assert abs(value - 0.25) < 1e-12, f"loss of 0.5 everywhere is {value}, not 0.25"


# -- hidden: building blocks ----------------------------------------------------------------

EXTREME_Z = np.array([-1000.0, -745.0, -710.0, -60.0, -1e-3, 0.0, 1e-3, 60.0, 710.0, 1000.0])


def sigmoid_values(env: Env) -> None:
    rng = np.random.default_rng(51_873)
    for shape in ((7, 3), (11,), (2, 3, 4)):
        z = rng.normal(0.0, 4.0, size=shape)
        out = _array(call(env, "sigmoid", z), "sigmoid(z)")
        assert out.shape == z.shape, f"sigmoid returned shape {out.shape}"
        error = float(np.max(np.abs(out - reference_sigmoid(z))))
        assert error < 1e-12, f"sigmoid is off by up to {error:.1e}"


def sigmoid_no_overflow(env: Env) -> None:
    numpy = env.get("np")
    assert numpy is not None, "the notebook must import numpy as np"
    previous = numpy.seterr(over="raise", invalid="raise", divide="raise")
    try:
        raw = call(env, "sigmoid", EXTREME_Z.copy())
    except FloatingPointError as exc:
        raise AssertionError(f"sigmoid overflows for large |z| ({exc})") from None
    finally:
        numpy.seterr(**previous)
    out = _array(raw, "sigmoid(z)")
    assert np.all(np.isfinite(out)), "sigmoid gave NaN or inf"
    assert float(np.max(np.abs(out - reference_sigmoid(EXTREME_Z)))) < 1e-12, "sigmoid is off"


def init_params_shapes(env: Env) -> None:
    for sizes, total in (([2, 4, 3, 1], 31), ([5, 3, 2], 26), ([3, 6, 6, 2, 4], 92)):
        params = call(env, "init_params", sizes, 17)
        assert isinstance(params, dict), "init_params must return a dict"
        expected = {}
        for layer in range(1, len(sizes)):
            expected[f"W{layer}"] = (sizes[layer - 1], sizes[layer])
            expected[f"b{layer}"] = (1, sizes[layer])
        assert sorted(params) == sorted(expected), f"keys {sorted(params)}"
        for key, shape in expected.items():
            value = params[key]
            assert isinstance(value, np.ndarray), f"{key} is not an array"
            assert value.shape == shape, f"{key} has shape {value.shape}, expected {shape}"
            assert value.dtype == np.float64, f"{key} has dtype {value.dtype}"
            assert np.all(np.isfinite(value)), f"{key} holds NaN or infinite values"
        assert sum(v.size for v in params.values()) == total, f"layers {sizes}: wrong count"


def init_params_seeded(env: Env) -> None:
    sizes = [3, 5, 2]
    first = call(env, "init_params", sizes, 2024)
    again = call(env, "init_params", sizes, 2024)
    other = call(env, "init_params", sizes, 7)
    for key in ("W1", "W2"):
        assert np.array_equal(first[key], again[key]), "the same seed gave different weights"
        assert float(np.ptp(first[key])) > 1e-3, f"all entries of {key} are equal"
    assert not np.array_equal(first["W1"], other["W1"]), "the seed is not used"


def loss_matches_mse(env: Env) -> None:
    rng = np.random.default_rng(90_210)
    for shape in ((6, 2), (9, 1), (4, 3)):
        y_hat, y = rng.uniform(0, 1, size=shape), rng.uniform(0, 1, size=shape)
        raw = call(env, "loss", y_hat, y)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise AssertionError("loss must return a number") from None
        expected = float(np.mean((y_hat - y) ** 2))
        assert abs(value - expected) <= 1e-12 * max(1.0, expected), "loss is not the MSE"


# -- hidden: the network ------------------------------------------------------------------

NETWORKS = (([3, 5, 2], 11), ([2, 4, 3, 1], 12), ([4, 1], 13))


def random_params(sizes: list[int], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 7])
    params = {}
    for layer in range(1, len(sizes)):
        params[f"W{layer}"] = rng.normal(0.0, 0.8, size=(sizes[layer - 1], sizes[layer]))
        params[f"b{layer}"] = rng.normal(0.0, 0.3, size=(1, sizes[layer]))
    return params


def reference_forward(params, x):
    activations = [x]
    for layer in range(1, len(params) // 2 + 1):
        z = activations[-1] @ params[f"W{layer}"] + params[f"b{layer}"]
        activations.append(reference_sigmoid(z))
    return activations


def reference_gradients(params, x, y):
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


def _forward(env: Env, params, x):
    result = call(env, "forward", params, x)
    assert isinstance(result, tuple | list) and len(result) == 2, "forward returns a pair"
    assert isinstance(result[0], np.ndarray), "Y_hat is not an array"
    return result[0], result[1]


def forward_matches_reference(env: Env) -> None:
    for sizes, seed in NETWORKS:
        params = random_params(sizes, seed)
        for rows in (9, 1):
            x = np.random.default_rng([seed, rows]).normal(size=(rows, sizes[0]))
            y_hat, _ = _forward(env, params, x)
            assert y_hat.shape == (rows, sizes[-1]), f"Y_hat has shape {y_hat.shape}"
            assert y_hat.dtype == np.float64, f"Y_hat has dtype {y_hat.dtype}"
            error = float(np.max(np.abs(y_hat - reference_forward(params, x)[-1])))
            assert error < 1e-10, f"forward is off by up to {error:.1e} for layers {sizes}"


def gradient_check(env: Env, params, x, y, h: float = 1e-5) -> tuple[dict[str, float], int]:
    """dlgrader's numeric.gradient_check probe plus its comparison: errors, forward calls."""
    forward_fn, loss_fn, backward_fn = _fn(env, "forward"), _fn(env, "loss"), _fn(env, "backward")
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    _, cache = forward_fn(_copy(params), x.copy())
    calls = [0]

    def counted(*args, **kwargs):
        calls[0] += 1
        return forward_fn(*args, **kwargs)

    # backward finds forward in its own module globals (the kernel's namespace), which
    # need not be the dict a peer hands its tests: swap it there.
    namespace = getattr(backward_fn, "__globals__", env)
    original = namespace.get("forward")
    namespace["forward"] = counted
    try:
        grads = backward_fn(_copy(params), cache, y.copy())
    finally:
        namespace["forward"] = original
    assert isinstance(grads, dict), "backward must return a dict of gradients"
    work = _copy(params)

    def objective() -> float:
        output = forward_fn(dict(work), x.copy())
        output = output[0] if isinstance(output, tuple) else output
        return float(loss_fn(output, y.copy()))

    errors = {}
    for key, array in work.items():
        flat = array.reshape(-1)
        values = np.empty(flat.size)
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + h
            plus = objective()
            flat[i] = saved - h
            minus = objective()
            flat[i] = saved
            values[i] = (plus - minus) / (2 * h)
        got = grads.get(f"d{key}")
        assert isinstance(got, np.ndarray), f"backward returned no d{key}"
        assert got.shape == array.shape, f"d{key} has shape {got.shape}, expected {array.shape}"
        errors[f"d{key}"] = relative_error(got, values.reshape(array.shape))
    return errors, calls[0]


def gradients_check(env: Env) -> None:
    for sizes, seed in NETWORKS:
        x, y = regression_data(8, sizes[0], sizes[-1], seed)
        errors, _ = gradient_check(env, random_params(sizes, seed), x, y)
        key, error = max(errors.items(), key=lambda item: (math.isnan(item[1]), item[1]))
        assert error < 1e-5, f"layers {sizes}: {key} relative error {error:.1e}"


def gradients_match_reference(env: Env) -> None:
    for sizes, seed in NETWORKS:
        params = random_params(sizes, seed)
        x, y = regression_data(5, sizes[0], sizes[-1], seed + 100)
        _, cache = _forward(env, params, x)
        grads = call(env, "backward", params, cache, y)
        assert isinstance(grads, dict), "backward must return a dict"
        for key, expected in reference_gradients(params, x, y).items():
            got = grads.get(key)
            assert isinstance(got, np.ndarray) and got.shape == expected.shape, f"{key} shape"
            assert relative_error(got, expected) < 1e-7, f"layers {sizes}: {key} is wrong"


def backward_is_analytic(env: Env) -> None:
    sizes, seed = NETWORKS[0]
    x, y = regression_data(8, sizes[0], sizes[-1], seed)
    _, calls = gradient_check(env, random_params(sizes, seed), x, y)
    assert 0 <= calls <= 1, f"backward called forward {calls} times"


# -- hidden: training -----------------------------------------------------------------------

XOR_SEEDS = tuple(range(101, 117))
MAX_EPOCHS = 20_000


def _train(env: Env, x, y, sizes, lr, epochs, seed):
    result = call(env, "train", x, y, sizes, lr, epochs, seed)
    assert isinstance(result, tuple | list) and len(result) == 2, "train returns a pair"
    params, losses = result
    assert isinstance(params, dict), "train must return params as a dict"
    return params, _floats(losses, "the losses train returned")


def train_takes_gradient_steps(env: Env) -> None:
    sizes, seed, lr = [3, 5, 2], 5, 0.3
    x, y = regression_data(6, 3, 2, seed=77)
    start = call(env, "init_params", sizes, seed)
    y_hat, cache = call(env, "forward", start, x)
    grads = call(env, "backward", start, cache, y)
    initial_loss = float(call(env, "loss", y_hat, y))
    params, losses = _train(env, x, y, sizes, lr, 1, seed)
    assert len(losses) == 1, "epochs=1 must give 1 loss"
    assert abs(losses[0] - initial_loss) <= 1e-10 * max(1.0, initial_loss), "record it first"
    for key, value in start.items():
        expected = value - lr * grads["d" + key]
        assert key in params and np.shape(params[key]) == expected.shape, f"no {key}"
        error = float(np.max(np.abs(np.asarray(params[key]) - expected)))
        assert error < 1e-10, f"after one epoch {key} is not {key} - lr * d{key}"
    _, three = _train(env, x, y, sizes, lr, 3, seed)
    assert len(three) == 3, "epochs=3 must give 3 losses"


def training_loss_decreases(env: Env) -> None:
    x, y = xor_data()
    _, losses = _train(env, x, y, [2, 4, 1], 1.0, 2000, 21)
    expect_loss_decrease(losses, k=10, min_relative_drop=0.5, what="XOR training loss")
    x, y = regression_data(12, 3, 2, seed=5)
    _, losses = _train(env, x, y, [3, 6, 2], 0.5, 500, 3)
    expect_loss_decrease(losses, k=10, min_relative_drop=0.1, what="loss on random data")


#: assignments/backprop/assignment.yaml's ``interface.optional`` defaults: what the XOR test
#: trains with when the notebook does not define the name (``nb.setting``). The lab sets no
#: grading parameters, so a name in the globals is one the notebook's own cells defined.
DEFAULTS: dict[str, Any] = {"LAYER_SIZES": [2, 4, 1], "LEARNING_RATE": 1.0, "EPOCHS": 5000}


def setting(env: Env, name: str) -> Any:
    return env[name] if name in env else DEFAULTS[name]


def xor_solved_fraction(env: Env) -> float:
    sizes, lr, epochs = (setting(env, n) for n in ("LAYER_SIZES", "LEARNING_RATE", "EPOCHS"))
    assert isinstance(sizes, list | tuple) and all(type(n) is int and n > 0 for n in sizes)
    assert len(sizes) >= 3 and sizes[0] == 2 and sizes[-1] == 1, "LAYER_SIZES cannot solve XOR"
    assert type(lr) in (int, float) and math.isfinite(lr) and lr > 0, "LEARNING_RATE > 0"
    assert type(epochs) is int and epochs > 0, "EPOCHS must be a positive integer"
    sizes, lr, epochs = list(sizes), float(lr), min(epochs, MAX_EPOCHS)
    x, y = xor_data()
    jitter = np.random.default_rng(4).uniform(-0.1, 0.1, size=(3, 4, 2))
    x_eval = np.concatenate([x, *(x + j for j in jitter)])
    y_eval = np.tile(y, (4, 1)) > 0.5
    solved = 0
    for seed in XOR_SEEDS:
        params, _ = _train(env, x, y, sizes, lr, epochs, seed)
        y_hat = call(env, "forward", params, x_eval)[0]
        solved += bool(np.array_equal(np.asarray(y_hat) > 0.5, y_eval))
    return solved / len(XOR_SEEDS)


#: rubrics/backprop.yaml's offline bands for xor_solved: (at least, fraction of 5 points).
XOR_BANDS = ((15 / 16, 1.0), (0.75, 0.6), (0.5, 0.3))


_XOR_DONE: dict[int, float] = {}


def xor_fraction_once(env: Env) -> float:
    """The solved fraction, trained once per notebook however many cases read it (Otter's
    banded credit is three test cases on one measurement)."""
    key = id(env.get("train"))
    if key not in _XOR_DONE:
        _XOR_DONE[key] = xor_solved_fraction(env)
    return _XOR_DONE[key]


def xor_points(env: Env, points: float = 5.0) -> float:
    fraction = xor_fraction_once(env)
    return next((points * share for low, share in XOR_BANDS if fraction >= low), 0.0)


def loss_curve_recorded(env: Env) -> None:
    assert "losses" in env, "the notebook has no `losses`"
    losses = _floats(env["losses"], "`losses`")
    if "EPOCHS" in env:  # else hard-coded epochs: the losses the notebook really recorded
        assert len(losses) == env["EPOCHS"], "`losses` must have EPOCHS entries"
    assert len(losses) >= 2, "`losses` must have one entry per epoch"
    expect_loss_decrease(losses, k=10, what="XOR loss in the notebook")


#: criterion id -> (points, checks), in rubrics/backprop.yaml's order; xor_solved is banded.
CRITERIA: dict[str, tuple[float, tuple[Callable[[Env], Any], ...]]] = {
    "shapes": (3, (public_init_params_shapes, public_forward_shape)),
    "basic_values": (2, (public_sigmoid_basics, public_loss_basics)),
    "sigmoid": (3, (sigmoid_values,)),
    "sigmoid_stable": (4, (sigmoid_no_overflow,)),
    "init_params": (4, (init_params_shapes, init_params_seeded)),
    "forward": (5, (forward_matches_reference,)),
    "loss": (2, (loss_matches_mse,)),
    "gradients": (11, (gradients_check, gradients_match_reference)),
    "analytic_backward": (3, (backward_is_analytic,)),
    "train_step": (4, (train_takes_gradient_steps,)),
    "loss_decreases": (2, (training_loss_decreases,)),
    "xor_solved": (5, (xor_points,)),
    "loss_curve": (2, (loss_curve_recorded,)),
}


def check(env: Env, criterion: str) -> float:
    """Run one criterion's checks; its points (raises AssertionError if a check fails)."""
    points, checks = CRITERIA[criterion]
    if criterion == "xor_solved":
        return xor_points(env, points)
    for one in checks:
        one(env)
    return float(points)


def require(env: Env, criterion: str) -> None:
    """``check`` for a test cell that must show nothing when it passes (nbgrader)."""
    check(env, criterion)


def grade_all(env: Env) -> dict[str, float]:
    """Every criterion's points, failures as 0: the bare in-kernel floor of testing."""
    scores = {}
    for criterion in CRITERIA:
        try:
            scores[criterion] = check(env, criterion)
        except Exception:  # noqa: BLE001 - a failed check is 0 points, as in the peers
            scores[criterion] = 0.0
    return scores
