"""What is particular to the NumPy labs `neurons` and `optimizers`.

The checks every assignment gets (files valid, stub generated, rubric complete, solution
passes, stub fails, examples score as EXPECTED.yaml says) are in test_assignments_content.py.
Here: the hidden tests' reference implementations reproduce the numbers the curriculum
records for the seed manuals, their comparison catches a wrong answer, and the neuron data
sets are what the tests claim.
"""

from __future__ import annotations

import numpy as np
import pytest
from course_files import load_test_module

ASSIGNMENTS = ["neurons", "optimizers"]


# -- fast: the files ----------------------------------------------------------------------


def test_optimizer_references_reproduce_the_seed_numbers():
    """The numbers of curriculum.md (seed 000 E3), recomputed by the hidden references."""
    ref = load_test_module("optimizers", "hidden/test_optimizers.py")
    x, y, starts = ref.seed_data()
    assert starts["sgd"] == (0.09707754934804039, 0.9686449905328892)
    design = np.hstack([x, np.ones_like(x)])
    assert np.allclose(np.linalg.lstsq(design, y, rcond=None)[0].ravel(), [1.9776566, 1.00966893])
    w, b, _ = ref.ref_sgd(x, y, *starts["sgd"], ref.LR, ref.EPOCHS)
    assert abs(w - 1.92502407) < 1e-8 and abs(b - 1.03508257) < 1e-8
    w, b, _ = ref.ref_minibatch(x, y, *starts["minibatch"], ref.LR, ref.BATCH, ref.EPOCHS)
    assert abs(w - 0.7911081086681657) < 1e-12 and abs(b - 1.5708653450938141) < 1e-12
    w, b, _ = ref.ref_momentum(x, y, *starts["momentum"], ref.LR, ref.BETA, ref.EPOCHS)
    assert abs(w - 1.94629625) < 1e-8 and abs(b - 1.02554776) < 1e-8
    # The manual's printed SGD line is one update from the SGD start (the `return` bug).
    w, b, _ = ref.ref_sgd(x[:1], y[:1], *starts["sgd"], ref.LR, 1)
    assert abs(w - 0.10320444) < 1e-8 and abs(b - 0.98500344) < 1e-8


def test_optimizer_comparison_catches_a_wrong_answer():
    ref = load_test_module("optimizers", "hidden/test_optimizers.py")
    x, y, w, b = ref.random_problem(0)
    right = ref.ref_sgd(x, y, w, b, 0.05, 3)
    ref.expect_same(right, right, "same")
    with pytest.raises(AssertionError, match="expected W"):
        ref.expect_same((right[0] * (1 + 1e-7), right[1], right[2]), right, "off")
    with pytest.raises(AssertionError, match="one per epoch"):
        ref.expect_same((right[0], right[1], right[2][:1]), right, "short")
    # Momentum with beta 0 is SGD; with beta 0.9 it is not.
    ref.expect_same(ref.ref_momentum(x, y, w, b, 0.05, 0.0, 3), right, "beta 0")
    with pytest.raises(AssertionError):
        ref.expect_same(ref.ref_momentum(x, y, w, b, 0.05, 0.9, 3), right, "beta 0.9")
    # Adam's bias-corrected first step is lr for each parameter.
    new_w, new_b, _ = ref.ref_adam(x, y, w, b, 0.01, len(x), 1)
    assert abs(abs(new_w - w) - 0.01) < 1e-8 and abs(abs(new_b - b) - 0.01) < 1e-8


def test_neuron_data_sets_are_what_the_tests_claim():
    ref = load_test_module("neurons", "hidden/test_perceptron.py")
    for seed, (n, dim) in enumerate(((40, 2), (60, 3), (80, 4))):
        x, y = ref.separable_data(2 * n, dim, seed)
        assert x.shape == (2 * n, dim) and 0 < y.mean() < 1, "both classes, full size"
    mcp = load_test_module("neurons", "hidden/test_mcp.py")
    assert [mcp.reference_mcp(np.array(v), np.array([1, 1]), 2) for v in ref.INPUTS_2] == [
        0,
        0,
        0,
        1,
    ]
    # The manual's NOT (weight +1, threshold 0) is what the gate test must reject.
    assert [mcp.reference_mcp(np.array([v]), np.array([1]), 0) for v in (0, 1)] != mcp.TABLES["NOT"]


# -- slow: real kernels -------------------------------------------------------------------
