"""Logits or probabilities, a loop model that cannot carry the network's mistake, and the
input-preparation hook of held-out accuracy: each shown catching the wrong answer and
passing correct variants."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import (
    accuracy,
    are_probabilities,
    expect_accuracy_at_least,
    expect_input_preparation,
    expect_logits,
    loop_model,
    model_outputs,
)
from grader.testing.fixture import Notebook

CELLS = [
    """
import torch
import torch.nn as nn

torch.manual_seed(0)
logits_net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
softmax_net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3), nn.Softmax(dim=1))
sigmoid_net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3), nn.Sigmoid())

class Standardised(nn.Module):
    '''Classifies by the sign of the first input, after its own standardisation.'''
    def forward(self, x):
        x = x.reshape(len(x), -1)
        return torch.stack([-x[:, 0], x[:, 0]], dim=1)

MEAN = 0.5
standardised = Standardised()

def preprocess(x):
    return torch.as_tensor(x) - MEAN

def forget_hook():
    # As if the notebook had centred its own split and not said how (no preprocess).
    global preprocess, _hook
    _hook = preprocess
    del preprocess

def restore_hook():
    global preprocess
    preprocess = _hook
"""
]

X = np.random.default_rng(0).uniform(0, 1, size=(16, 3, 2, 2)).astype(np.float32)


def test_softmax_outputs_are_named_logits_pass(nb):
    expect_logits(model_outputs(nb, "logits_net", X))
    # Sigmoid rows lie in [0, 1] but do not sum to 1: not a softmax, not flagged.
    expect_logits(model_outputs(nb, "sigmoid_net", X))
    with pytest.raises(AssertionError, match="returns probabilities .*CrossEntropyLoss"):
        expect_logits(
            model_outputs(nb, "softmax_net", X), model="LeNet5", loss="nn.CrossEntropyLoss"
        )


def test_are_probabilities_needs_rows_that_sum_to_one():
    assert are_probabilities(np.array([[0.2, 0.8], [0.5, 0.5]]))
    assert not are_probabilities(np.array([[0.2, 0.7], [0.5, 0.5]]))
    assert not are_probabilities(np.array([[1.5, -0.5], [0.5, 0.5]]))
    assert not are_probabilities(np.array([[1.0], [1.0]]))  # one column: a binary output


def test_loop_model_swaps_only_a_probability_network(nb):
    own = nb.ref("logits_net")
    assert loop_model(nb, own, X, name="net", reference="torch.reference_lenet5") is own
    assert not nb.notes
    swapped = loop_model(
        nb, nb.ref("softmax_net"), X, name="LeNet5", reference="torch.reference_lenet5"
    )
    assert swapped is not own
    counts = nb.probe("torch.param_counts", model=swapped)
    assert counts["total"] == 62_006
    assert "returns probabilities" in nb.notes[0]


def test_held_out_accuracy_goes_through_the_notebooks_preprocess(nb):
    labels = (X.reshape(16, -1)[:, 0] > 0.5).astype(np.int64)
    assert accuracy(nb, "standardised", X, labels) == 1.0
    without = accuracy(nb, "standardised", X, labels, preprocess=False)
    assert without < 1.0  # every raw input is positive: one class for all


def test_accuracy_gap_to_the_notebooks_own_split_names_preparation():
    expect_accuracy_at_least(0.8, 0.7, own=0.1)  # passing is passing
    with pytest.raises(AssertionError, match="expected at least 0.7"):
        expect_accuracy_at_least(0.2, 0.7, own=0.3)  # the model itself is weak
    with pytest.raises(AssertionError, match="0.95 on your test split, 0.13 .*preprocess"):
        expect_accuracy_at_least(0.13, 0.7, own=0.95)


def test_input_preparation_warns_when_the_model_needs_the_notebooks_own(nb):
    labels = (X.reshape(16, -1)[:, 0] > 0.5).astype(np.int64)
    # Correct: the notebook's preprocess(x) centres the grader's inputs as it centred its own.
    assert expect_input_preparation(nb, "standardised", X, labels, own=1.0, inputs="X") == 1.0
    nb.call("forget_hook")
    try:
        with pytest.raises(AssertionError, match="1 on your test split, 0.* on 16 images"):
            expect_input_preparation(nb, "standardised", X, labels, own=1.0, inputs="16 images")
        # Without its own number to compare with, only that the model runs, with a note.
        expect_input_preparation(nb, "standardised", X, labels, own=None, inputs="16 images")
        assert "no `test_accuracy` to compare with" in nb.notes[-1]
    finally:
        nb.call("restore_hook")


def test_notes_are_kept_per_notebook_view(nb):
    fresh = Notebook(nb._bridge, {})
    assert fresh.notes == []
