"""Public checks for the deep-regression lab: the network's size and output shape.

Run them yourself with ``grader check your_notebook.ipynb``. The hidden tests go further:
your standardisation on the grader's data, your training loop step by step, and the test
error of your trained model against the predict-the-mean baseline.
"""

from __future__ import annotations

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
