"""What is particular to the GAN lab (`gan`).

The checks every assignment gets (files valid, stub generated, rubric complete, solution
passes, stub fails, examples score as EXPECTED.yaml says) are in test_assignments_content.py.
Here: the hidden tests hold the manual's sizes layer by layer, the solution shows its
samples as a grid, the examples cover the mistakes the lab is about, and the grader's real
images are the notebook's kind of data.
"""

from __future__ import annotations

import numpy as np
from course_files import ROOT, load_test_module, read_notebook, rubric

from grader import datasets
from grader.expectations import load_expectations


def linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def test_hidden_sizes_are_the_manuals_networks():
    networks = load_test_module("gan", "hidden/test_networks.py")
    generator = [linear(a, b) for a, b in [(100, 128), (128, 256), (256, 512), (512, 784)]]
    discriminator = [linear(a, b) for a, b in [(784, 512), (512, 256), (256, 1)]]
    assert networks.GENERATOR_LAYERS == generator and sum(generator) == 579_728
    assert networks.DISCRIMINATOR_LAYERS == discriminator and sum(discriminator) == 533_505
    assert networks.GENERATOR_PARAMS == 579_728 and networks.DISCRIMINATOR_PARAMS == 533_505
    near = {**networks.GENERATOR_NEAR_MISSES, **networks.DISCRIMINATOR_NEAR_MISSES}
    assert not {579_728, 533_505} & set(near), "a near miss may not be the right answer"


def test_solution_draws_its_samples_as_a_grid():
    notebook = read_notebook(ROOT / "solutions" / "gan.ipynb")
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "plt.subplots(2, 8" in code and "samples = generator(fixed_noise)" in code
    assert code.count("plt.show()") >= 2, "the sample grid and the loss curves reach the report"


def test_examples_cover_the_mistakes_the_lab_is_about():
    expected = load_expectations(ROOT / "examples" / "submissions" / "gan").examples
    failing = {criterion for example in expected.values() for criterion in example.must_fail}
    step_criteria = {"discriminator_step", "generator_step", "optimizers", "generator_target"}
    assert step_criteria | {"generator_range", "training_direction"} <= failing
    assert sum(example.correct for example in expected.values()) >= 2
    ids = {c.id for c in rubric("gan").criteria}
    assert failing <= ids


def test_grader_images_are_scaled_like_the_notebooks():
    steps = load_test_module("gan", "hidden/test_steps.py")

    class Offline:
        tier = "offline"

    real, noise = steps.grader_batch(Offline(), 2_101)
    assert real.shape == (steps.BATCH, 784) and noise.shape == (steps.BATCH, steps.LATENT_DIM)
    assert real.dtype == np.float32 and real.min() == -1.0 and real.max() <= 1.0
    notebook = datasets.load_mnist(n_train=0, n_test=steps.BATCH, seed=2_101, tier="offline")
    assert np.array_equal(real, datasets.signed_vectors(notebook.x_test))
