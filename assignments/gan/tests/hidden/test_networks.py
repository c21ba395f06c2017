"""Hidden tests for the GAN lab: both networks' sizes, the generator's range, and whether
the discriminator's output suits the notebook's loss.

Ranges are judged on inputs that drive the networks far from zero (noise and images
scaled by 50): a Tanh then reaches -1 and 1, a Sigmoid stays in [0, 1] and a missing
activation leaves the range, so no verdict rests on a value near an edge.
"""

from __future__ import annotations

import numpy as np

from grader import checks
from grader.checks import losses

LATENT_DIM = 100
#: Seed 001 E16: 12,928 + 33,024 + 131,584 + 402,192 and 401,920 + 131,328 + 257.
GENERATOR_LAYERS = [12_928, 33_024, 131_584, 402_192]
DISCRIMINATOR_LAYERS = [401_920, 131_328, 257]
GENERATOR_PARAMS, DISCRIMINATOR_PARAMS = 579_728, 533_505
GENERATOR_NEAR_MISSES = {
    1_486_352: "the widely copied 100-256-512-1024-784 generator, not the manual's one",
    581_520: "batch normalisation after each hidden layer (1,792 more): the manual has none",
    575_120: "64 noise inputs: the first layer must read latent_dim = 100 values",
}
DISCRIMINATOR_NEAR_MISSES = {
    1_460_225: "the widely copied 784-1024-512-256-1 discriminator, not the manual's 784-512-256-1",
    533_762: "two outputs: the discriminator gives one score per image, Linear(256, 1)",
}
#: Inputs far from zero (seeded here, never in the notebook).
LOUD_NOISE = 50 * np.random.default_rng(5_101).normal(size=(64, LATENT_DIM)).astype(np.float32)
LOUD_IMAGES = 50 * np.random.default_rng(5_102).normal(size=(64, 784)).astype(np.float32)
PLAIN_NOISE = np.random.default_rng(5_103).normal(size=(64, LATENT_DIM)).astype(np.float32)


def test_parameter_counts(nb):
    expected = [
        ("Generator", GENERATOR_PARAMS, GENERATOR_NEAR_MISSES, GENERATOR_LAYERS),
        ("Discriminator", DISCRIMINATOR_PARAMS, DISCRIMINATOR_NEAR_MISSES, DISCRIMINATOR_LAYERS),
    ]
    for class_name, total, near_misses, layers in expected:
        network = nb.new(class_name)
        counts = checks.param_counts(nb, network)
        nb.record(f"{class_name.lower()}_params", counts.total)
        checks.expect_param_count(counts, total, near_misses, what=f"parameters in {class_name}()")
        checks.expect_layer_param_counts(checks.layer_param_counts(nb, network), layers)


def test_generator_range(nb):
    generator = nb.new("Generator")
    hint = (
        "the real images are scaled to [-1, 1], so the generator must end with nn.Tanh() "
        "(a Sigmoid never goes below 0, a last Linear alone has no bound)"
    )
    checks.expect_within_range(
        checks.model_outputs(nb, generator, PLAIN_NOISE),
        -1,
        1,
        what="the generator's images",
        hint=hint,
    )
    checks.expect_within_range(
        checks.model_outputs(nb, generator, LOUD_NOISE),
        -1,
        1,
        what="the generator's images for large noise",
        reach=0.5,
        hint=hint,
    )


def test_discriminator_output(nb):
    assert nb.exists("loss_fn"), (
        "the notebook has no `loss_fn`: nn.BCELoss() or nn.BCEWithLogitsLoss()"
    )
    kind = losses.loss_kind(nb, "loss_fn")
    outputs = checks.model_outputs(nb, nb.new("Discriminator"), LOUD_IMAGES)
    losses.expect_outputs_suit_loss(outputs, kind, model="Discriminator()")
