"""Public checks for the LeNet-5 lab: the network's size and output, and get_device.

Run them yourself with ``grader check your_notebook.ipynb``. The hidden tests go further:
layer by layer shapes, your training and evaluation loops on the grader's data, and the
accuracy of your trained model on images you never see.
"""

from __future__ import annotations

import numpy as np

from grader import checks
from grader.datasets import load_cifar10

LENET5_PARAMS = 62_006
#: Wrong totals we know the cause of, phrased to follow "... is what you get with".
NEAR_MISSES = {
    61_706: "one input channel: the first convolution must take 3 (colour) channels",
    44_726: "a network sized for 28x28 input: for 32x32 the flattened size is 16 x 5 x 5 = 400",
    44_426: "a one-channel network sized for 28x28 input (MNIST's LeNet)",
    60_840: "the 1998 paper's LeNet-5 (sparse C3 connections and an RBF output layer)",
}


def test_parameter_count(nb):
    counts = checks.param_counts(nb, nb.new("LeNet5"))
    checks.expect_param_count(counts, LENET5_PARAMS, NEAR_MISSES)


#: Images the public preparation check measures the trained model on (a public seed).
PUBLIC_IMAGES, PUBLIC_SEED = 300, 77


def test_output_shape(nb):
    model = nb.new("LeNet5")
    shapes = checks.output_shapes(nb, model, [(1, 3, 32, 32), (5, 3, 32, 32), (64, 3, 32, 32)])
    checks.expect_output_shapes(shapes, lambda shape: (shape[0], 10))
    images = np.random.default_rng(PUBLIC_SEED).uniform(0, 1, size=(8, 3, 32, 32))
    checks.expect_logits(
        checks.model_outputs(nb, model, images), model="LeNet5", loss="nn.CrossEntropyLoss"
    )


def test_input_preparation(nb):
    """Warns before submission when the trained model only works on the notebook's own
    preparation of its inputs (the hidden accuracy test measures new images)."""
    assert nb.exists("model"), "the notebook has no trained `model`: run the training cell"
    images = load_cifar10(n_train=0, n_test=PUBLIC_IMAGES, seed=PUBLIC_SEED, tier=nb.tier)
    checks.expect_input_preparation(
        nb,
        "model",
        images.x_test,
        images.y_test,
        own=checks.reported_number(nb, "test_accuracy"),
        inputs=f"{PUBLIC_IMAGES} images as load_cifar10 gives them",
    )


def test_get_device(nb):
    device = nb.call("get_device")
    text = str(nb.method(device, "__repr__")) if not isinstance(device, str) else device
    assert text.startswith("device(type="), (
        f"get_device() returned {text[:60]!r}, expected a torch.device such as torch.device('cpu')"
    )
    has_cuda = bool(nb.probe("env.accelerators").get("cuda_available"))
    wanted = "cuda" if has_cuda else "cpu"
    assert f"type='{wanted}'" in text, (
        f"get_device() returned {text}, but this machine {'has' if has_cuda else 'has no'} "
        f"GPU: expected the {wanted} device"
    )
