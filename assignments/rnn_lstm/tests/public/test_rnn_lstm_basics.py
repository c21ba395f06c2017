"""Public checks for the RNN/LSTM lab: window shapes, parameter counts, output shape.

Run them yourself with ``grader check your_notebook.ipynb``. The hidden tests go further:
exact windows of series the grader makes, the (batch, sequence, feature) layout for
several window lengths, your training loop step by step, and the forecasts of your
trained networks on a series they never saw.
"""

from __future__ import annotations

import numpy as np

from grader import checks

#: nn.RNN(1, 16): 16*1 + 16*16 + 16 + 16 = 304; nn.LSTM(1, 16): 4 * 304 = 1,216; fc 17.
EXPECTED = {"rnn": 321, "lstm": 1_233}
NEAR_MISSES = {
    304: "the recurrent layer alone: add nn.Linear(16, 1) for the forecast",
    1_216: "the recurrent layer alone: add nn.Linear(16, 1) for the forecast",
    929: "a GRU (3 gates) instead of the cell asked for",
    641: "a bidirectional RNN (two directions and a Linear(32, 1))",
    2_465: "a bidirectional LSTM (two directions and a Linear(32, 1))",
}


def test_window_shapes(nb):
    result = nb.call("make_windows", np.arange(100, dtype=np.float32), 20)
    assert isinstance(result, tuple | list) and len(result) == 2, (
        "make_windows must return a pair (X, y)"
    )
    x, y = result
    shape_x = getattr(x, "shape", None)
    shape_y = getattr(y, "shape", None)
    assert shape_x == (80, 20, 1) and shape_y == (80, 1), (
        f"make_windows(100 values, 20) gave X {shape_x} and y {shape_y}; expected X (80, 20, 1) "
        "and y (80, 1)"
    )


def test_parameter_counts(nb):
    for cell, expected in EXPECTED.items():
        counts = checks.param_counts(nb, nb.new("Forecaster", cell))
        checks.expect_param_count(
            counts, expected, NEAR_MISSES, what=f"parameters in Forecaster({cell!r})"
        )


def test_output_shape(nb):
    for cell in EXPECTED:
        shapes = checks.output_shapes(
            nb, nb.new("Forecaster", cell), [(1, 20, 1), (4, 20, 1), (32, 20, 1)]
        )
        checks.expect_output_shapes(shapes, lambda shape: (shape[0], 1))
