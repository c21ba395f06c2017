"""Hidden tests for the GAN lab: the two optimizers and what each step function changes.

Every test builds fresh, seeded networks from the notebook's classes, and hands the
student's step the grader's own optimizers (one Adam per network, the lab's settings),
loss (of the notebook's kind, recording its targets), real images and noise. Before the
call the grader plants gradients: NaN in the network the step should update (a step that
does not clear them turns its weights into NaN) and known values in the other (a step that
back-propagates into it changes them). Afterwards it compares digests of every weight and
gradient: the verdicts are exact, on any CPU.
"""

from __future__ import annotations

import numpy as np

from grader import checks
from grader.checks import losses, updates
from grader.datasets import load_mnist, signed_vectors

LATENT_DIM, BATCH = 100, 32
LR, BETAS = 2e-4, (0.5, 0.999)
#: Scaled-up images: a logit discriminator answers far outside [0, 1] for them.
LOUD_IMAGES = 50 * np.random.default_rng(6_101).normal(size=(16, 784)).astype(np.float32)
WATCH = ("generator", "discriminator")


def fresh_networks(nb, seed: int):
    checks.seed_everything(nb, seed)
    return nb.new("Generator"), nb.new("Discriminator")


def grader_batch(nb, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Real images in [-1, 1] (the grader's own draw) and noise, both float32."""
    real = signed_vectors(load_mnist(n_train=0, n_test=BATCH, seed=seed, tier=nb.tier).x_test)
    noise = np.random.default_rng(seed).normal(size=(BATCH, LATENT_DIM)).astype(np.float32)
    return real, noise


def adam(nb, model):
    return checks.make_optimizer(nb, model, "adam", lr=LR, betas=BETAS)


def test_optimizers(nb):
    generator, discriminator = fresh_networks(nb, 11)
    pair = nb.call("make_optimizers", generator, discriminator)
    assert isinstance(pair, tuple | list) and len(pair) == 2, (
        "make_optimizers must return two optimizers, (g_optimizer, d_optimizer)"
    )
    models = dict(zip(WATCH, (generator, discriminator), strict=True))
    for optimizer, owner, name in zip(pair, WATCH, ("g_optimizer", "d_optimizer"), strict=True):
        holds = updates.optimizer_holds(nb, optimizer, models)
        updates.expect_optimizer_over(
            holds, owner, what=f"{name} (from make_optimizers)", kind="Adam", lr=LR, betas=BETAS
        )


def watched_step(nb, function: str, seed: int, update: str) -> tuple[updates.StepEffects, object]:
    """Call ``function`` on fresh networks with the grader's optimizer, loss and batch.

    NaN is planted in the gradients of the network it should update, known values in the
    other's. Returns what the call did, and the recording loss it was handed.
    """
    generator, discriminator = fresh_networks(nb, seed)
    networks = {"generator": generator, "discriminator": discriminator}
    real, noise = grader_batch(nb, 100 * seed + 1)
    kind = losses.binary_loss_kind(nb, "loss_fn", discriminator, LOUD_IMAGES)
    loss = losses.recording_loss(nb, kind)
    data = (real, noise) if update == "discriminator" else (noise,)
    other = next(name for name in WATCH if name != update)
    effects = updates.step_effects(
        nb,
        function,
        generator,
        discriminator,
        adam(nb, networks[update]),
        loss,
        *data,
        models=networks,
        plant={update: "nan", other: "values"},
    )
    return effects, loss


def test_discriminator_step(nb):
    effects, _ = watched_step(nb, "discriminator_step", 21, "discriminator")
    updates.expect_updates_only(
        effects,
        "discriminator",
        what="discriminator_step",
        moved_hint="only d_optimizer may step here",
    )
    updates.expect_no_gradients_into(
        effects,
        "generator",
        what="discriminator_step",
        hint="detach the fake batch (generator(noise).detach()) so that this step leaves "
        "the generator alone; those gradients move the generator through one shared "
        "optimizer or a generator step that does not clear them",
    )
    updates.expect_float_result(effects, what="discriminator_step")


def test_generator_step(nb):
    effects, _ = watched_step(nb, "generator_step", 31, "generator")
    updates.expect_updates_only(
        effects,
        "generator",
        what="generator_step",
        moved_hint="gradients flow back through the discriminator, but only g_optimizer may step",
    )
    updates.expect_float_result(effects, what="generator_step")


def test_generator_target(nb):
    effects, loss = watched_step(nb, "generator_step", 41, "generator")
    assert effects.error is None, f"generator_step raised {effects.error}"
    losses.expect_targets(
        losses.loss_targets(nb, loss),
        1.0,
        what="generator_step",
        hint='train the generator towards label 1 ("D should call these real"), the '
        "non-saturating loss, with the loss_fn it is given",
    )
