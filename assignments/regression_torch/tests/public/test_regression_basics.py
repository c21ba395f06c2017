"""Public checks for the deep-regression lab: the network's size and output shape, and
whether the trained model works on rows prepared as the lab states.

Run them yourself with ``grader check your_notebook.ipynb``. The hidden tests go further:
your standardisation on the grader's data, your training loop step by step, and the test
error of your trained model against the predict-the-mean baseline.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

from grader import checks

#: 64-32-1 for d inputs: (64d + 64) + (64*32 + 32) + (32 + 1) = 64d + 2,177.
DIABETES_FEATURES = 10
DIABETES_PARAMS = 64 * DIABETES_FEATURES + 2_177
#: Wrong totals for d = 10 whose cause we know, phrased to follow "is what you get with".
NEAR_MISSES = {
    2_720: "no biases in any layer",
    769: "a single hidden layer (10-64-1)",
    2_850: "2 outputs instead of 1",
    2_689: "8 input features (California housing) instead of the diabetes set's 10",
    3_009: "13 input features (the Boston housing set) instead of 10",
}


def test_parameter_count(nb):
    counts = checks.param_counts(nb, nb.new("Regressor", DIABETES_FEATURES))
    checks.expect_param_count(counts, DIABETES_PARAMS, NEAR_MISSES)


def test_output_shape(nb):
    shapes = checks.output_shapes(
        nb,
        nb.new("Regressor", DIABETES_FEATURES),
        [(1, DIABETES_FEATURES), (7, DIABETES_FEATURES), (64, DIABETES_FEATURES)],
    )
    checks.expect_output_shapes(shapes, lambda shape: (shape[0], 1))


#: Rows the public preparation check measures the trained model on: training rows drawn with
#: a public seed, never the test rows (the hidden test measures the test error on those).
PUBLIC_ROWS, PUBLIC_SEED = 150, 77
SPLIT_SEED = 42


def public_rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training rows standardised as the lab states (the training rows' mean and std), the
    same rows raw (for a notebook's own ``preprocess(X)``), and their standardised targets."""
    x, y = load_diabetes(return_X_y=True, scaled=False)
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.2, random_state=SPLIT_SEED)
    pick = np.random.default_rng(PUBLIC_SEED).choice(len(x_train), PUBLIC_ROWS, replace=False)
    rows = (x_train[pick] - x_train.mean(axis=0)) / x_train.std(axis=0)
    targets = (y_train[pick] - y_train.mean()) / y_train.std()
    return rows.astype(np.float32), x_train[pick], targets


def test_input_preparation(nb):
    """Warns before submission when the trained model only works on the notebook's own
    preparation of its rows (the hidden test error is measured on rows prepared as the lab
    states, or through the notebook's preprocess(X))."""
    assert nb.exists("model"), "the notebook has no trained `model`: run the training cell"
    rows, raw, targets = public_rows()
    ratio = checks.mse_ratio(checks.predicted_values(nb, rows, raw), targets)
    nb.record("mse_ratio", ratio)
    own = checks.reported_error_ratio(nb)
    if own is None:
        nb.note(
            "no `test_mse` and `baseline_mse` to compare with: only checked that `predict` "
            "runs on the rows"
        )
        return
    checks.expect_same_preparation_error(
        ratio, own, inputs=f"{PUBLIC_ROWS} training rows standardised as the lab states"
    )
