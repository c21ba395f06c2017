"""Hidden tests for the GAN lab: the direction each step moves D(G(z)), and the notebook's
own training run.

The direction test alternates the student's two steps on fresh, seeded networks with
the grader's optimizers, loss, images and noise, and measures the discriminator's mean
probability before and after each step on the very batch the step used (eval mode, no
gradients). A discriminator step must widen the gap between D(x) on the real images and
D(G(z)) on the fakes; a generator step must raise D(G(z)) on its fakes. (At the start a
discriminator step raises D on real images by about 0.09 and lowers it on the fakes by
less than 0.001, so the gap is the robust measure of "towards 1 for real, 0 for fake".)
Correct code widens the gap by 0.07-0.10 and raises D(G(z)) by 0.003-0.004 per step
(docs/calibration.md, gan); the margins asked are a fraction of that, so only a step in
the wrong direction (or none) fails, never rounding.

The training run is the notebook's: a GAN's state after a few hundred steps is chaotic, so
only its bookkeeping is graded (one finite loss per step, the samples in range), never how
good the pictures are.
"""

from __future__ import annotations

import math

import numpy as np

from grader import checks
from grader.checks import losses, updates
from grader.datasets import load_mnist, signed_vectors

LATENT_DIM, BATCH, ITERATIONS = 100, 32, 3
LR, BETAS = 2e-4, (0.5, 0.999)
#: The least widening of D(x) - D(G(z)) by a discriminator step (correct code: 0.07-0.10).
GAP_MARGIN = 0.01
#: The least rise of D(G(z)) by a generator step (correct code: 0.003-0.004).
RISE_MARGIN = 5e-4
LOUD_IMAGES = 50 * np.random.default_rng(7_101).normal(size=(16, 784)).astype(np.float32)


def mean_probability(nb, discriminator, images: np.ndarray, kind: str) -> float:
    outputs = checks.model_outputs(nb, discriminator, images)
    return float(np.mean(losses.as_probabilities(outputs, kind)))


def on_fakes(nb, generator, discriminator, noise: np.ndarray, kind: str) -> float:
    return mean_probability(nb, discriminator, checks.model_outputs(nb, generator, noise), kind)


def run_step(nb, function: str, *args, models) -> None:
    effects = updates.step_effects(nb, function, *args, models=models)
    assert effects.error is None, f"{function} raised {effects.error}"


def expect_moved(before: float, after: float, margin: float, message: str, what: str) -> float:
    moved = after - before
    assert math.isfinite(moved) and moved > margin, (
        f"{message} ({what} {before:.4f} before the step, {after:.4f} after)"
    )
    return moved


def test_training_direction(nb):
    checks.seed_everything(nb, 51)
    generator, discriminator = nb.new("Generator"), nb.new("Discriminator")
    kind = losses.binary_loss_kind(nb, "loss_fn", discriminator, LOUD_IMAGES)
    loss = checks.make_loss_fn(nb, kind)
    g_optimizer = checks.make_optimizer(nb, generator, "adam", lr=LR, betas=BETAS)
    d_optimizer = checks.make_optimizer(nb, discriminator, "adam", lr=LR, betas=BETAS)
    models = {"generator": generator, "discriminator": discriminator}
    real_images = signed_vectors(
        load_mnist(n_train=0, n_test=BATCH * ITERATIONS, seed=5_151, tier=nb.tier).x_test
    )
    rng = np.random.default_rng(5_152)
    gaps, rises = [], []
    for i in range(ITERATIONS):
        real = real_images[i * BATCH : (i + 1) * BATCH]
        noise = rng.normal(size=(BATCH, LATENT_DIM)).astype(np.float32)

        def gap(real=real, noise=noise) -> float:
            fake = on_fakes(nb, generator, discriminator, noise, kind)
            return mean_probability(nb, discriminator, real, kind) - fake

        before = gap()
        d_args = (generator, discriminator, d_optimizer, loss, real, noise)
        run_step(nb, "discriminator_step", *d_args, models=models)
        gaps.append(
            expect_moved(
                before,
                gap(),
                GAP_MARGIN,
                f"discriminator_step {i + 1} did not widen the gap between D(x) on real images "
                "and D(G(z)) on fakes: train the discriminator towards 1 for real images and "
                "0 for generated ones",
                "mean D(x) - D(G(z))",
            )
        )
        noise = rng.normal(size=(BATCH, LATENT_DIM)).astype(np.float32)
        before = on_fakes(nb, generator, discriminator, noise, kind)
        g_args = (generator, discriminator, g_optimizer, loss, noise)
        run_step(nb, "generator_step", *g_args, models=models)
        rises.append(
            expect_moved(
                before,
                on_fakes(nb, generator, discriminator, noise, kind),
                RISE_MARGIN,
                f"generator_step {i + 1} did not raise D(G(z)): the generator must make fakes "
                "the discriminator takes for real, so train it towards label 1",
                "mean D(G(z))",
            )
        )
    nb.record("smallest_gap_widening", float(min(gaps)))
    nb.record("smallest_rise_of_d_g_z", float(min(rises)))


def test_training_run(nb):
    for name in ("generator", "discriminator"):
        assert nb.exists(name), f"the notebook has no trained `{name}`: run the training cell"
    for name in ("d_losses", "g_losses"):
        values = checks.epoch_history(
            nb, name, missing_hint="keep each step's loss", count_name="STEPS", unit="step"
        )
        bad = [v for v in values if not math.isfinite(v)]
        assert values and not bad, f"`{name}` holds {len(bad)} losses that are NaN or infinite"
    assert nb.exists("samples"), "the notebook has no `samples`: keep the generated images"
    samples = nb.get("samples")
    assert isinstance(samples, np.ndarray) and samples.size == 16 * 784 and len(samples) == 16, (
        f"`samples` must be 16 images of 28 x 28, not {getattr(samples, 'shape', type(samples))}"
    )
    checks.expect_within_range(
        samples, -1, 1, what="`samples`", hint="keep the generator's raw outputs"
    )
