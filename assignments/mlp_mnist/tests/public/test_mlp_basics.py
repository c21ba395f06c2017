"""Public checks for the MLP lab: the network's size, that it outputs probabilities, and
that the trained model works on digits prepared as the lab states.

Run them yourself with ``grader check your_notebook.ipynb``. The hidden tests go further:
each layer, networks of other shapes and with batch normalisation from your builder, your
data preparation and optimizer settings, the history and plot of your training run, and
the accuracy of your trained model on digits you never see.
"""

from __future__ import annotations

import numpy as np

from grader import checks
from grader.datasets import load_mnist

MLP_PARAMS = 242_762  # 200,960 + 32,896 + 8,256 + 650
#: Wrong totals we know the cause of, phrased to follow "... is what you get with".
NEAR_MISSES = {
    235_146: "two hidden layers (784-256-128-10, the manual's Annexure I): the lab has three",
    109_386: "784-128-64-10, the network of experiment 1",
    828_490: "3,072 inputs (a CIFAR-10 image): MNIST images flatten to 784",
    242_304: "no biases in the dense layers",
}


def test_parameter_count(nb):
    counts = checks.param_counts(nb, nb.call("build_mlp"))
    checks.expect_param_count(counts, MLP_PARAMS, NEAR_MISSES)


def test_softmax_output(nb):
    model = nb.call("build_mlp")
    shapes = checks.output_shapes(nb, model, [(1, 784), (7, 784)])
    checks.expect_output_shapes(shapes, lambda shape: (shape[0], 10))
    images = np.random.default_rng(12).uniform(0, 1, (7, 784)).astype(np.float32)
    out = nb.call(model, images, training=False)
    assert type(out) is np.ndarray and out.shape == (7, 10), (
        "build_mlp()'s model must return one row of 10 class probabilities per image"
    )
    sums = out.astype(np.float64).sum(axis=1)
    assert bool(np.all(out >= 0)) and bool(np.all(np.abs(sums - 1) < 1e-4)), (
        f"the outputs are not probabilities (row sums {np.round(sums[:3], 3).tolist()}...): "
        "end the network with a softmax layer, as categorical cross-entropy expects"
    )


#: Digits the public preparation check measures the trained model on: a public seed, not the
#: hidden tests' digits.
PUBLIC_IMAGES, PUBLIC_SEED = 300, 77


def test_input_preparation(nb):
    """Warns before submission when the trained model only works on the notebook's own
    preparation of its inputs (the hidden accuracy test measures new digits)."""
    assert nb.exists("model"), "the notebook has no trained `model`: run the training cell"
    digits = load_mnist(n_train=0, n_test=PUBLIC_IMAGES, seed=PUBLIC_SEED, tier=nb.tier)
    # Flattened, float32 in [0, 1], as prepare_data makes them; checks.accuracy passes them
    # through the notebook's preprocess(x) when it defines one.
    x = digits.x_test.reshape(len(digits.x_test), 784)
    checks.expect_input_preparation(
        nb,
        "model",
        x,
        digits.y_test,
        own=checks.reported_number(nb, "test_accuracy"),
        inputs=f"{PUBLIC_IMAGES} digits flattened to 784 values in [0, 1], as the lab states",
    )
