"""Which weights a step changed, and which optimizer holds which weights: each check shown
catching the wrong answer (no detach, zero_grad on the wrong model, one optimizer over
two networks, a step that never steps) and passing correct variants (detach or no_grad,
model.zero_grad or optimizer.zero_grad)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import updates
from grader.testing.fixture import Notebook

CELLS = [
    """
import itertools
import torch
from torch import nn

def make_pair(seed):
    torch.manual_seed(seed)
    g = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.Tanh())
    d = nn.Sequential(nn.Linear(6, 5), nn.LeakyReLU(0.2), nn.Linear(5, 1))
    return g, d

def adam(model):
    return torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))

def own_optimizers(g, d):
    return adam(g), adam(d)

def shared_optimizer(g, d):
    both = torch.optim.Adam(itertools.chain(g.parameters(), d.parameters()), lr=2e-4)
    return both, both

bce = nn.BCEWithLogitsLoss()

def d_loss(g, d, real, noise, detach=True):
    fake = g(noise).detach() if detach else g(noise)
    r, f = d(real), d(fake)
    return bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f))

def update(opt, loss, clear=True, step=True):
    if clear:
        opt.zero_grad()
    loss.backward()
    if step:
        opt.step()
    return loss.item()

def d_step(g, d, opt, real, noise):
    return update(opt, d_loss(g, d, real, noise))

def d_step_no_grad(g, d, opt, real, noise):
    with torch.no_grad():
        fake = g(noise)
    d.zero_grad()
    r, f = d(real), d(fake)
    return update(opt, bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f)), clear=False)

def d_step_no_detach(g, d, opt, real, noise):
    opt.zero_grad()
    return update(opt, d_loss(g, d, real, noise, detach=False), clear=False)

def d_step_wrong_zero_grad(g, d, opt, real, noise):
    g.zero_grad()
    return update(opt, d_loss(g, d, real, noise), clear=False)

def d_step_never_steps(g, d, opt, real, noise):
    return update(opt, d_loss(g, d, real, noise), step=False)

def g_step(g, d, opt, noise):
    out = d(g(noise))
    return update(opt, bce(out, torch.ones_like(out)))

def g_step_raises(g, d, opt, noise):
    raise RuntimeError("not written yet")
"""
]

REAL = np.random.default_rng(0).uniform(-1, 1, (8, 6)).astype(np.float32)
NOISE = np.random.default_rng(1).normal(size=(8, 4)).astype(np.float32)


def pair(nb: Notebook, seed: int = 0):
    g, d = nb.call("make_pair", seed)
    return g, d


def d_effects(nb: Notebook, step: str, make: str = "adam"):
    g, d = pair(nb)
    optimizer = nb.call(make, d)
    return updates.step_effects(
        nb,
        step,
        g,
        d,
        optimizer,
        REAL,
        NOISE,
        models={"generator": g, "discriminator": d},
        plant={"discriminator": "nan", "generator": "values"},
    )


@pytest.mark.parametrize("step", ["d_step", "d_step_no_grad"])
def test_a_correct_discriminator_step_moves_only_the_discriminator(nb, step):
    effects = d_effects(nb, step)
    updates.expect_updates_only(effects, "discriminator", what="the D step")
    updates.expect_no_gradients_into(effects, "generator", what="the D step")
    assert updates.expect_float_result(effects, what="the D step") > 0
    assert nb.measured["discriminator_tensors_changed"] == 4
    assert nb.measured["generator_tensors_changed"] == 0


def test_a_missing_detach_writes_gradients_into_the_generator(nb):
    effects = d_effects(nb, "d_step_no_detach")
    updates.expect_updates_only(effects, "discriminator", what="the D step")  # weights alone
    with pytest.raises(AssertionError, match=r"computed gradients for the generator \(0.weight"):
        updates.expect_no_gradients_into(
            effects, "generator", what="the D step", hint="detach the fakes"
        )


def test_zero_grad_on_the_wrong_model_uses_the_planted_nan(nb):
    effects = d_effects(nb, "d_step_wrong_zero_grad")
    updates.expect_no_gradients_into(effects, "generator", what="the D step")  # it cleared G
    with pytest.raises(AssertionError, match="used gradients left in the discriminator"):
        updates.expect_updates_only(effects, "discriminator", what="the D step")


def test_a_step_that_never_steps_and_one_that_raises(nb):
    with pytest.raises(
        AssertionError, match=r"did not change the discriminator's weights 0\.weight"
    ):
        updates.expect_updates_only(d_effects(nb, "d_step_never_steps"), "discriminator", what="x")
    g, d = pair(nb)
    effects = updates.step_effects(
        nb, "g_step_raises", g, d, nb.call("adam", g), NOISE, models={"generator": g}
    )
    with pytest.raises(AssertionError, match="the G step raised RuntimeError: not written yet"):
        updates.expect_updates_only(effects, "generator", what="the G step")


def test_one_optimizer_over_both_networks_moves_the_other_one(nb):
    g, d = pair(nb)
    g_opt, _ = nb.call("shared_optimizer", g, d)
    effects = updates.step_effects(
        nb,
        "g_step",
        g,
        d,
        g_opt,
        NOISE,
        models={"generator": g, "discriminator": d},
        plant={"generator": "nan", "discriminator": "values"},
    )
    with pytest.raises(AssertionError, match=r"changed the discriminator's weights .*: one per"):
        updates.expect_updates_only(
            effects, "generator", what="the G step", moved_hint="one per network"
        )
    holds = updates.optimizer_holds(nb, g_opt, {"generator": g, "discriminator": d})
    assert holds.held == {"generator": (4, 4), "discriminator": (4, 4)}
    with pytest.raises(AssertionError, match="also updates the discriminator"):
        updates.expect_optimizer_over(holds, "generator", what="g_optimizer", kind="Adam")


def test_separate_optimizers_pass_and_wrong_settings_are_named(nb):
    g, d = pair(nb)
    g_opt, d_opt = nb.call("own_optimizers", g, d)
    models = {"generator": g, "discriminator": d}
    for optimizer, owner in ((g_opt, "generator"), (d_opt, "discriminator")):
        holds = updates.optimizer_holds(nb, optimizer, models)
        updates.expect_optimizer_over(
            holds, owner, what=owner, kind="Adam", lr=0.0002, betas=(0.5, 0.999)
        )
    holds = updates.optimizer_holds(nb, d_opt, models)
    with pytest.raises(AssertionError, match="is a Adam, expected torch.optim.SGD"):
        updates.expect_optimizer_over(holds, "discriminator", what="d", kind="SGD")
    with pytest.raises(AssertionError, match="has lr=0.0002, expected 0.001"):
        updates.expect_optimizer_over(holds, "discriminator", what="d", lr=1e-3)
    with pytest.raises(AssertionError, match=r"betas=\[0.5, 0.999\], expected \(0.9, 0.999\)"):
        updates.expect_optimizer_over(holds, "discriminator", what="d", betas=(0.9, 0.999))
    with pytest.raises(AssertionError, match="holds 0 of the generator's 4 parameter tensors"):
        updates.expect_optimizer_over(holds, "generator", what="d")
    with pytest.raises(AssertionError, match="expected a torch.optim optimizer, got a Sequential"):
        updates.optimizer_holds(nb, g, models)
