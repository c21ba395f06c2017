"""Public checks for the image-classification lab: the network's size and its output, and
whether the trained model works on images prepared as the lab states.

Run them yourself with ``grader check your_notebook.ipynb``. The hidden tests go further:
every layer's shape, your channel conversion, confusion matrix, precision and recall on
the grader's own inputs (including classes that are never predicted), your training run,
the performance report of your notebook, and your trained model's accuracy on images you
never see.
"""

from __future__ import annotations

import numpy as np

from grader import checks
from grader.datasets import load_cifar10

CNN_PARAMS = 356_810  # 896 + 18,496 + 73,856 + 262,272 + 1,290
#: Wrong totals we know the cause of, phrased to follow "... is what you get with".
NEAR_MISSES = {
    1_143_242: 'padding="same": the lab\'s convolutions use no padding, 32 -> 30 -> 15 -> 13',
    2_077_130: "no pooling after the second convolution (flatten 11 x 11 x 128 = 15,488)",
    160_202: "a third pooling layer after the last convolution (flatten 2 x 2 x 128 = 512)",
    356_234: "one input channel: the images have 3 colour channels",
    122_570: "the TensorFlow tutorial's CNN (32-64-64 filters, dense 64) of seed manual 000",
}


def test_parameter_count(nb):
    counts = checks.param_counts(nb, nb.call("build_cnn"))
    checks.expect_param_count(counts, CNN_PARAMS, NEAR_MISSES)


def test_output_shape(nb):
    model = nb.call("build_cnn")
    shapes = checks.output_shapes(nb, model, [(1, 32, 32, 3), (5, 32, 32, 3)])
    checks.expect_output_shapes(shapes, lambda shape: (shape[0], 10))
    images = np.random.default_rng(21).uniform(0, 1, (5, 32, 32, 3)).astype(np.float32)
    out = nb.call(model, images, training=False)
    assert type(out) is np.ndarray and out.shape == (5, 10), (
        "build_cnn()'s model must return one row of 10 class probabilities per image"
    )
    sums = out.astype(np.float64).sum(axis=1)
    assert bool(np.all(out >= 0)) and bool(np.all(np.abs(sums - 1) < 1e-4)), (
        "the outputs are not probabilities: end the network with Dense(10, activation='softmax')"
    )


#: Images the public preparation check measures the trained model on: a public seed, not the
#: hidden tests' images.
PUBLIC_IMAGES, PUBLIC_SEED = 300, 77


def test_input_preparation(nb):
    """Warns before submission when the trained model only works on the notebook's own
    preparation of its inputs (the hidden accuracy test measures new images)."""
    assert nb.exists("model"), "the notebook has no trained `model`: run stage (c)"
    images = load_cifar10(n_train=0, n_test=PUBLIC_IMAGES, seed=PUBLIC_SEED, tier=nb.tier)
    # Channels last and in [0, 1], as to_channels_last makes them; checks.accuracy passes
    # them through the notebook's preprocess(x) when it defines one.
    x = np.ascontiguousarray(images.x_test.transpose(0, 2, 3, 1))
    checks.expect_input_preparation(
        nb,
        "model",
        x,
        images.y_test,
        own=checks.reported_number(nb, "test_accuracy"),
        inputs=f"{PUBLIC_IMAGES} images channels last in [0, 1], as the lab states",
    )
