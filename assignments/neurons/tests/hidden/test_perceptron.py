"""Hidden tests for the neurons lab: the perceptron rule, training and its stopping.

Data sets are generated here: linearly separable points with a margin (their labels stay
in the grader; predictions on fresh points are judged here from the returned w and b),
and non-separable sets (XOR, and random points with one contradiction). Every call must
return within the assignment's request timeout.
"""

from __future__ import annotations

import numpy as np

AND_OR = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1]}
INPUTS_2 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR = np.array([0, 1, 1, 0])
#: Enough epochs for the separable sets below (the reference needs at most 13 over 300 seeds).
SEPARABLE_EPOCHS = 500
#: Fresh points the learned line must classify like the hidden one (reference: at least
#: 0.87 over 300 seeds; a line that learned nothing gets about 0.5).
HELD_OUT_ACCURACY = 0.75


def separable_data(n: int, dim: int, seed: int, margin: float = 0.1):
    """Points in [-1, 1]^dim labelled by a random hyperplane, none closer than ``margin``."""
    rng = np.random.default_rng([seed, 58])
    normal = rng.normal(size=dim)
    normal /= np.linalg.norm(normal)
    offset = float(rng.uniform(-0.3, 0.3))
    points = rng.uniform(-1.0, 1.0, size=(8 * n, dim))
    side = points @ normal + offset
    keep = np.abs(side) > margin
    return points[keep][:n], (side[keep][:n] > 0).astype(int)


def reference_update(w, b, x, target, eta):
    prediction = int(float(x @ w + b) >= 0)
    return w + eta * (target - prediction) * x, b + eta * (target - prediction)


def _train(nb, x, y, eta, max_epochs, seed):
    result = nb.call("perceptron_train", x, y, eta, max_epochs, seed)
    assert isinstance(result, tuple | list) and len(result) == 4, (
        "perceptron_train must return (w, b, converged, errors_per_epoch)"
    )
    w, b, converged, errors = result
    try:
        w = np.asarray(w, dtype=np.float64).reshape(-1)
        b = float(np.asarray(b, dtype=np.float64).reshape(-1)[0])
        errors = [int(e) for e in errors]
    except (TypeError, ValueError, IndexError):
        raise AssertionError("perceptron_train must return numbers, a bool and a list") from None
    assert isinstance(converged, bool | np.bool_), (
        f"converged must be True or False, not {converged!r:.30}"
    )
    assert w.size == x.shape[1], f"w has {w.size} entries for {x.shape[1]} input features"
    assert 1 <= len(errors) <= max_epochs, (
        f"errors_per_epoch has {len(errors)} entries with max_epochs={max_epochs}"
    )
    return w, b, bool(converged), errors


def _predictions(w: np.ndarray, b: float, x: np.ndarray) -> np.ndarray:
    return (x @ w + b >= 0).astype(int)


def test_update_rule_one_step(nb):
    rng = np.random.default_rng(1958)
    for case in range(12):
        dim = int(rng.integers(2, 6))
        w, x = rng.normal(size=dim), rng.normal(size=dim)
        b, eta = float(rng.normal()), float(rng.uniform(0.05, 1.0))
        predicted = int(float(x @ w + b) >= 0)
        target = predicted if case % 3 == 0 else 1 - predicted  # mostly mistakes
        result = nb.call("perceptron_update", w.copy(), b, x.copy(), target, eta)
        assert isinstance(result, tuple | list) and len(result) == 2, (
            "perceptron_update must return the pair (w, b)"
        )
        expected_w, expected_b = reference_update(w, b, x, target, eta)
        new_w = np.asarray(result[0], dtype=np.float64).reshape(-1)
        assert new_w.shape == w.shape, f"the new w has shape {new_w.shape}, expected {w.shape}"
        error = float(np.max(np.abs(new_w - expected_w)))
        assert error < 1e-12, (
            f"after one update w is off by {error:.2e} (target {target}, prediction "
            f"{predicted}, eta {eta:.3f}): use w + eta * (target - prediction) * x"
        )
        new_b = float(np.asarray(result[1], dtype=np.float64).reshape(-1)[0])
        assert abs(new_b - expected_b) < 1e-12, (
            f"after one update b is {new_b:.6g}, expected {expected_b:.6g}: use "
            "b + eta * (target - prediction)"
        )


def test_perceptron_predict(nb):
    rng = np.random.default_rng(397)
    for rows, dim in ((7, 2), (1, 3), (30, 5)):
        w, b = rng.normal(size=dim), float(rng.normal())
        x = rng.normal(size=(rows, dim))
        got = nb.call("perceptron_predict", w, b, x)
        assert isinstance(got, np.ndarray) and got.shape == (rows,), (
            f"for X of shape {x.shape} perceptron_predict must return an array of shape "
            f"({rows},), not {getattr(got, 'shape', type(got).__name__)}"
        )
        assert np.array_equal(got, _predictions(w, b, x)), (
            f"perceptron_predict is wrong on random data of shape {x.shape}: 1 where "
            "X @ w + b >= 0, else 0"
        )


def test_learns_and_or(nb):
    for gate, targets in AND_OR.items():
        for seed in (0, 1, 2):
            w, b, converged, errors = _train(nb, INPUTS_2, np.array(targets), 0.5, 50, seed)
            assert converged, f"{gate} is linearly separable, but training did not converge"
            assert errors[-1] == 0 and 0 not in errors[:-1], (
                f"{gate}: training must stop after the first epoch without mistakes, "
                f"errors_per_epoch was {errors}"
            )
            predicted = nb.call("perceptron_predict", w, b, INPUTS_2)
            assert np.asarray(predicted).tolist() == targets, (
                f"after training on {gate} (seed {seed}) your perceptron predicts "
                f"{np.asarray(predicted).tolist()}, expected {targets}"
            )


def test_separable_random_data(nb):
    for seed, (n, dim) in enumerate(((40, 2), (60, 3), (80, 4))):
        x, y = separable_data(2 * n, dim, seed)
        x_train, y_train, x_test, y_test = x[:n], y[:n], x[n:], y[n:]
        w, b, converged, errors = _train(nb, x_train, y_train, 0.5, SEPARABLE_EPOCHS, seed)
        assert converged and errors[-1] == 0, (
            f"training on {n} linearly separable points in {dim}-D did not converge "
            f"within {SEPARABLE_EPOCHS} epochs (mistakes per epoch end with {errors[-3:]})"
        )
        train_correct = _predictions(w, b, x_train) == y_train
        assert train_correct.all(), (
            f"converged is True, but the returned w, b misclassify {int((~train_correct).sum())} "
            "training points: return the final weights"
        )
        accuracy = float(np.mean(_predictions(w, b, x_test) == y_test))
        assert accuracy >= HELD_OUT_ACCURACY, (
            f"the learned line classifies only {accuracy:.0%} of fresh points correctly"
        )


def test_non_separable_reported(nb):
    w, b, converged, errors = _train(nb, INPUTS_2, XOR, 0.5, 50, 0)
    assert not converged, "XOR is not linearly separable, but training reported converged=True"
    assert len(errors) == 50 and min(errors) > 0, (
        f"on XOR every one of the 50 epochs must have mistakes; errors_per_epoch: {errors}"
    )
    x, y = separable_data(20, 3, 99)
    x = np.vstack([x, x[:1]])
    y = np.concatenate([y, 1 - y[:1]])  # the same point with both labels
    _, _, converged, errors = _train(nb, x, y, 0.5, 200, 3)
    assert not converged and len(errors) == 200, (
        "a data set with one point labelled both 0 and 1 cannot converge: stop after "
        f"max_epochs=200 and report converged=False (got {converged}, {len(errors)} epochs)"
    )


def test_training_is_seeded(nb):
    x, y = separable_data(30, 2, 7)
    first = _train(nb, x, y, 0.5, 100, 11)
    again = _train(nb, x, y, 0.5, 100, 11)
    assert np.array_equal(first[0], again[0]) and first[1] == again[1], (
        "perceptron_train with the same seed gave different weights: draw them from "
        "np.random.default_rng(seed)"
    )
