"""The loss a notebook uses, outputs that suit it, the targets a step trains towards, and
an output range: each check shown catching the wrong answer and passing correct variants."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import expect_within_range, losses, model_outputs
from grader.testing.fixture import Notebook

CELLS = [
    """
import torch
from torch import nn

torch.manual_seed(0)
body = [nn.Linear(6, 5), nn.LeakyReLU(0.2), nn.Linear(5, 1)]
logit_d = nn.Sequential(*body)
sigmoid_d = nn.Sequential(*body, nn.Sigmoid())
tanh_g = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.Tanh())
sigmoid_g = nn.Sequential(*list(tanh_g)[:3], nn.Sigmoid())
linear_g = nn.Sequential(*list(tanh_g)[:3])
bce, bce_logits, mse = nn.BCELoss(), nn.BCEWithLogitsLoss(), nn.MSELoss()

class HomeMadeLoss:
    def __call__(self, out, target):
        return ((out - target) ** 2).mean()

home_made = HomeMadeLoss()

def g_step(d, loss_fn, noise, label):
    out = d(tanh_g(torch.as_tensor(noise)))
    return loss_fn(out, torch.full_like(out, label)).item()

def g_step_own_loss(d, loss_fn, noise):
    out = torch.sigmoid(d(tanh_g(torch.as_tensor(noise))))
    return -torch.log(out).mean().item()

def g_step_positional_free(d, loss_fn, noise):
    out = d(tanh_g(torch.as_tensor(noise)))
    return loss_fn(input=out, target=torch.ones_like(out)).item()
"""
]

NOISE = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
#: Inputs far from zero: a logit network's outputs reach well outside [0, 1].
LOUD = 50 * np.random.default_rng(1).normal(size=(64, 6)).astype(np.float32)


def test_loss_kind_names_the_torch_losses_only(nb: Notebook):
    assert losses.loss_kind(nb, "bce") == "bce"
    assert losses.loss_kind(nb, "bce_logits") == "bce_logits"
    assert losses.loss_kind(nb, "mse") == "mse"
    assert losses.loss_kind(nb, "home_made") is None


def test_outputs_must_suit_the_loss(nb: Notebook):
    logits, probabilities = model_outputs(nb, "logit_d", LOUD), model_outputs(nb, "sigmoid_d", LOUD)
    losses.expect_outputs_suit_loss(probabilities, "bce", model="D")
    losses.expect_outputs_suit_loss(logits, "bce_logits", model="D")
    with pytest.raises(
        AssertionError, match=r"D returns values in \[0, 1\] only, as after a Sigmoid"
    ):
        losses.expect_outputs_suit_loss(probabilities, "bce_logits", model="D")
    with pytest.raises(AssertionError, match="needs probabilities in .0, 1.: end with nn.Sigmoid"):
        losses.expect_outputs_suit_loss(logits, "bce", model="D")
    with pytest.raises(AssertionError, match="must be nn.BCELoss or nn.BCEWithLogitsLoss"):
        losses.expect_outputs_suit_loss(probabilities, None, model="D")
    with pytest.raises(AssertionError, match="NaN"):
        losses.expect_outputs_suit_loss(np.array([[np.nan]]), "bce")
    probs = losses.as_probabilities(logits, "bce_logits")
    assert np.all((probs >= 0) & (probs <= 1)) and np.array_equal(
        losses.as_probabilities(probabilities, "bce"), probabilities
    )


def test_recorded_targets_show_the_label_a_step_trains_towards(nb: Notebook):
    ones = losses.recording_loss(nb, "bce_logits")
    nb.call("g_step", nb.ref("logit_d"), ones, NOISE, 1.0)
    nb.call("g_step_positional_free", nb.ref("logit_d"), ones, NOISE)
    calls = losses.loss_targets(nb, ones)
    assert [(c.low, c.high, c.count) for c in calls] == [(1.0, 1.0, 16)] * 2
    losses.expect_targets(calls, 1.0, what="the G step")

    zeros = losses.recording_loss(nb, "bce")
    nb.call("g_step", nb.ref("sigmoid_d"), zeros, NOISE, 0.0)
    with pytest.raises(
        AssertionError, match="targets from 0 to 0, expected 1 everywhere: use ones"
    ):
        losses.expect_targets(losses.loss_targets(nb, zeros), 1.0, what="G", hint="use ones")

    unused = losses.recording_loss(nb, "bce_logits")
    nb.call("g_step_own_loss", nb.ref("logit_d"), unused, NOISE)
    with pytest.raises(AssertionError, match="never called the loss function it was given"):
        losses.expect_targets(losses.loss_targets(nb, unused), 1.0, what="the G step")


def test_a_tanh_output_spans_minus_one_to_one_and_others_do_not(nb: Notebook):
    loud_noise = 50 * NOISE
    expect_within_range(model_outputs(nb, "tanh_g", loud_noise), -1, 1, reach=0.5)
    expect_within_range(model_outputs(nb, "tanh_g", NOISE), -1, 1)  # no reach asked
    with pytest.raises(
        AssertionError, match=r"only run from \S+ to 1, never near both ends.*: use Tanh"
    ):
        expect_within_range(
            model_outputs(nb, "sigmoid_g", loud_noise), -1, 1, reach=0.5, hint="use Tanh"
        )
    with pytest.raises(AssertionError, match=r"the images run from -\d.* outside \[-1, 1\]"):
        expect_within_range(
            model_outputs(nb, "linear_g", loud_noise), -1, 1, what="the images", reach=0.5
        )
    with pytest.raises(AssertionError, match="empty or not finite"):
        expect_within_range(np.array([0.0, np.inf]), -1, 1)


def test_binary_loss_kind_follows_the_notebook_or_else_its_outputs(nb: Notebook):
    assert losses.binary_loss_kind(nb, "bce", "logit_d", LOUD) == "bce"  # the notebook's word
    assert not nb.notes
    assert losses.binary_loss_kind(nb, "home_made", "sigmoid_d", LOUD) == "bce"
    assert losses.binary_loss_kind(nb, "no_such_loss", "logit_d", LOUD) == "bce_logits"
    assert "was tested with nn.BCEWithLogitsLoss" in nb.notes[-1]
