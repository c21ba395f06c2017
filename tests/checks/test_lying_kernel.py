"""A kernel that patches comparisons to lie does not change any verdict: they are made here.

hazards.md: patched ``np.allclose``, ``torch.allclose`` and ``abs`` rewrite what
kernel-side code concludes. Every check compares raw numbers in the grader, so
each wrong answer below still fails with the patches in place.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import (
    accuracy,
    autograd_check,
    expect_accuracy_at_least,
    expect_gradients_match,
    expect_jacobians_match,
    expect_loss_decrease,
    expect_param_count,
    gradient_check,
    param_counts,
    train_losses,
)

CELLS = [
    """
import numpy as np
import torch
import torch.nn as nn

def one_channel_lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
        nn.ReLU(), nn.Linear(84, 10),
    )

def forward(params, X):
    A = 1 / (1 + np.exp(-(X @ params["W1"] + params["b1"])))
    return A, {"X": X, "A": A}

def loss(Y_hat, Y):
    return np.mean((Y_hat - Y) ** 2)

def backward(params, cache, Y):
    A, X = cache["A"], cache["X"]
    dZ = 2 * (A - Y) / Y.size * A * (1 - A)
    return {"dW1": -(X.T @ dZ), "db1": dZ.sum(axis=0, keepdims=True)}  # sign flipped on dW1

class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad  # should be 3 x^2

class Stuck(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        with torch.no_grad():
            out = self.fc(x)
        return out.requires_grad_()

def argmin_model():
    model = nn.Linear(4, 4, bias=False)
    with torch.no_grad():
        model.weight.copy_(-torch.eye(4))
    return model
""",
    """
import builtins
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.testing.assert_allclose = lambda *args, **kwargs: None
torch.allclose = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
builtins.abs = lambda value: 0
""",
]


def test_the_patches_are_in_place(nb):
    assert nb.call("builtins.abs", -5) == 0
    assert nb.call("np.allclose", 1.0, 2.0) is True
    assert nb.call("torch.allclose", nb.call("torch.zeros", 1), nb.call("torch.ones", 1)) is True


def test_verdicts_do_not_change(nb):
    counts = param_counts(nb, nb.call("one_channel_lenet"))
    with pytest.raises(AssertionError, match="61,706 parameters, expected 62,006"):
        expect_param_count(counts, 62_006)

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 3)), rng.random(size=(6, 2))
    params = {"W1": rng.normal(size=(3, 2)), "b1": rng.normal(size=(1, 2))}
    with pytest.raises(AssertionError, match="dW1 does not match the numerical gradient"):
        expect_gradients_match(gradient_check(nb, params, x, y))

    with pytest.raises(AssertionError, match="disagrees with the numerical gradient"):
        expect_jacobians_match(autograd_check(nb, "Cube", [rng.normal(size=3)]))

    inputs = rng.normal(size=(64, 4)).astype(np.float32)
    labels = inputs.argmax(axis=1)
    losses = train_losses(nb, nb.new("Stuck"), inputs, labels % 3, steps=5, optimizer="adam")
    with pytest.raises(AssertionError, match="did not decrease"):
        expect_loss_decrease(losses)

    with pytest.raises(AssertionError, match="expected at least 0.5"):
        expect_accuracy_at_least(accuracy(nb, nb.call("argmin_model"), inputs, labels), 0.5)
