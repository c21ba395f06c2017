"""Public checks for the neurons lab: values you can verify by hand.

Run them yourself with ``grader check your_notebook.ipynb``. Passing them does not mean
full marks: the hidden tests use random weights, thresholds and data sets.
"""

from __future__ import annotations

import numpy as np

AND_INPUTS = [[0, 0], [0, 1], [1, 0], [1, 1]]


def test_mcp_neuron_and_table(nb):
    outputs = [nb.call("mcp_neuron", x, [1, 1], 2) for x in AND_INPUTS]
    assert outputs == [0, 0, 0, 1], (
        f"mcp_neuron with w = [1, 1], threshold 2 gives {outputs} on the AND inputs, "
        "expected [0, 0, 0, 1]"
    )


def test_logic_gate_returns_a_pair(nb):
    result = nb.call("logic_gate", "OR")
    assert isinstance(result, tuple | list) and len(result) == 2, (
        "logic_gate(name) must return a pair (weights, threshold)"
    )
    weights, _ = result
    assert len(np.atleast_1d(weights)) == 2, "OR has two inputs, so two weights"


def test_perceptron_predict_shape(nb):
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    out = nb.call("perceptron_predict", np.array([1.0, 1.0]), -1.5, x)
    assert isinstance(out, np.ndarray), (
        f"perceptron_predict returned a {type(out).__name__}, expected a NumPy array"
    )
    assert out.shape == (5,), f"for 5 rows perceptron_predict gave shape {out.shape}, not (5,)"
    assert out.tolist() == [0, 0, 0, 1, 1], (
        f"w = [1, 1], b = -1.5 must predict [0, 0, 0, 1, 1], not {out.tolist()}"
    )
