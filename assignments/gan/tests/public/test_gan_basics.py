"""Public checks for the GAN lab: both networks map batches of any size to the right shapes.

Run them yourself with ``grader check your_notebook.ipynb``. The hidden tests go further:
the parameter counts layer by layer, the generator's output range, whether the
discriminator's output suits your loss, your two optimizers, which weights each of your
step functions changes (on networks of the grader's own), the label the generator is
trained towards, and your training run.
"""

from __future__ import annotations

from grader import checks

#: The length of the noise vector, Generator()'s default.
LATENT_DIM = 100


def test_output_shapes(nb):
    generator = checks.output_shapes(
        nb, nb.new("Generator"), [(1, LATENT_DIM), (5, LATENT_DIM), (64, LATENT_DIM)]
    )
    checks.expect_output_shapes(generator, lambda shape: (shape[0], 784))
    discriminator = checks.output_shapes(
        nb, nb.new("Discriminator"), [(1, 784), (5, 784), (64, 784)]
    )
    checks.expect_output_shapes(discriminator, lambda shape: (shape[0], 1))
