"""Hidden tests for the deep-regression lab: standardisation, on fresh data and in the notebook.

``fit_standardizer`` and ``standardize`` are checked on random matrices the grader draws
(columns with large, different means and scales, and one constant column). Then the
notebook's own statistics and standardised arrays are compared with what the training
rows alone give: the grader repeats the notebook's fixed split (scikit-learn's diabetes
set, ``train_test_split(..., test_size=0.2, random_state=42)``) in its own process.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

SPLIT_SEED = 42
#: Agreement required with the grader's float64 statistics (float32 work passes).
RTOL, ATOL = 1e-4, 1e-6


def fresh_matrix(seed: int) -> np.ndarray:
    """Rows x columns with means up to 500, scales from 0.01 to 100, last column constant."""
    rng = np.random.default_rng(seed)
    scales = 10.0 ** rng.uniform(-2, 2, size=6)
    x = rng.normal(rng.uniform(-500, 500, size=6), scales, size=(37, 6))
    x[:, -1] = 3.5
    return x


def as_array(value: object, what: str, shape: tuple[int, ...]) -> np.ndarray:
    assert isinstance(value, np.ndarray) and value.dtype.kind in "iuf", (
        f"{what} must be a NumPy array of numbers, not {type(value).__name__}"
    )
    assert value.shape == shape, f"{what} has shape {value.shape}, expected {shape}"
    return value.astype(np.float64)


def diabetes_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y = load_diabetes(return_X_y=True, scaled=False)
    return train_test_split(x, y, test_size=0.2, random_state=SPLIT_SEED)


def test_fit_standardizer_on_fresh_data(nb):
    x = fresh_matrix(2_024)
    result = nb.call("fit_standardizer", x)
    assert isinstance(result, tuple | list) and len(result) == 2, (
        "fit_standardizer must return a pair (mean, std)"
    )
    mean = as_array(result[0], "the mean from fit_standardizer", (6,))
    std = as_array(result[1], "the std from fit_standardizer", (6,))
    assert np.allclose(mean, x.mean(axis=0), rtol=RTOL, atol=ATOL), (
        "fit_standardizer's mean is not the mean of each column (use axis=0)"
    )
    population, sample = x.std(axis=0), x.std(axis=0, ddof=1)
    population[-1] = sample[-1] = 1.0
    assert std[-1] == 1.0, (
        f"a constant column got std {std[-1]:g}: replace a standard deviation of 0 by 1"
    )
    assert np.allclose(std, population, rtol=RTOL) or np.allclose(std, sample, rtol=RTOL), (
        "fit_standardizer's std is not the standard deviation of each column (use axis=0)"
    )


def test_standardize_on_fresh_data(nb):
    x = fresh_matrix(2_025)
    mean = np.linspace(-300.0, 300.0, 6)
    std = np.linspace(0.5, 40.0, 6)
    result = as_array(nb.call("standardize", x, mean, std), "standardize's result", x.shape)
    assert np.allclose(result, (x - mean) / std, rtol=RTOL, atol=ATOL), (
        "standardize(X, mean, std) must return (X - mean) / std with the statistics it is given"
    )


def test_notebook_fits_on_training_rows_only(nb):
    x_train, x_test, y_train, _ = diabetes_split()
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    for name in ("x_mean", "x_std", "X_train_std", "X_test_std", "y_mean", "y_std"):
        assert nb.exists(name), f"the notebook has no `{name}`: run the standardisation cell"
    got_mean = as_array(np.asarray(nb.get("x_mean")), "x_mean", mean.shape)
    got_std = as_array(np.asarray(nb.get("x_std")), "x_std", std.shape)
    assert np.allclose(got_mean, mean, rtol=RTOL), (
        "x_mean is not the mean of the training rows: fit the standardizer on X_train only"
    )
    ddof1 = x_train.std(axis=0, ddof=1)
    assert np.allclose(got_std, std, rtol=RTOL) or np.allclose(got_std, ddof1, rtol=RTOL), (
        "x_std is not the std of the training rows: fit the standardizer on X_train only"
    )
    test_std = as_array(np.asarray(nb.get("X_test_std")), "X_test_std", x_test.shape)
    expected = (x_test - got_mean) / got_std
    assert np.allclose(test_std, expected, rtol=RTOL, atol=1e-5), (
        "X_test_std is not the test rows standardised with the training statistics: "
        "never fit a standardizer on the test rows"
    )
    train_std = as_array(np.asarray(nb.get("X_train_std")), "X_train_std", x_train.shape)
    assert np.allclose(train_std, (x_train - got_mean) / got_std, rtol=RTOL, atol=1e-5), (
        "X_train_std is not the training rows standardised with x_mean and x_std"
    )
    y_mean = float(np.asarray(nb.get("y_mean")).reshape(-1)[0])
    assert abs(y_mean - y_train.mean()) <= RTOL * abs(y_train.mean()), (
        f"y_mean is {y_mean:.3f}, but the training targets' mean is {y_train.mean():.3f}: "
        "fit the target's standardizer on y_train only"
    )
