"""Public checks for the GPU CNN lab: the network's size and output, get_device, and
whether the trained model works on images prepared as the lab states.

Run them yourself with ``grader check your_notebook.ipynb``. The hidden tests go further:
layer by layer shapes, your device choice as if a GPU were there, whether your loops move
every batch to the device they are given, your training step on the grader's images, and
the accuracy of your trained model on images you never see.
"""

from __future__ import annotations

from grader import checks
from grader.checks.predictions import PREPROCESS
from grader.datasets import image_folder_sample

#: Seed 001 E9: 896 + 18,496 + 73,856 + 524,544 + 2,570 (ten outputs, the manual's default).
MANUAL_PARAMS = 620_362
#: The same network with two outputs: the last layer has 256 * 2 + 2 = 514.
TWO_CLASS_PARAMS = 620_362 - 2_570 + 514
#: Wrong totals for CNNClassifier() whose cause we know, to follow "is what you get with".
NEAR_MISSES = {
    618_306: "two outputs: CNNClassifier() must default to num_classes=10",
    2_193_226: "fc1 sized for 128 x 8 x 8 inputs: three 2x2 pools take 32 to 4, so 2,048 inputs",
    227_146: "convolutions without padding: use padding=1 so each keeps the 32/16/8 size",
    619_786: "one input channel: conv1 must take 3 (colour) channels",
    8_408_386: "the manual's post-lab CNN for 128x128 images, not its CNNClassifier",
}


def test_parameter_count(nb):
    two = checks.param_counts(nb, nb.new("CNNClassifier", 2))
    counts = checks.param_counts(nb, nb.new("CNNClassifier"))  # recorded: the manual's count
    checks.expect_param_count(counts, MANUAL_PARAMS, NEAR_MISSES)
    checks.expect_param_count(two, TWO_CLASS_PARAMS, what="parameters in CNNClassifier(2)")


def test_output_shape(nb):
    shapes = checks.output_shapes(
        nb, nb.new("CNNClassifier", 2), [(1, 3, 32, 32), (5, 3, 32, 32), (32, 3, 32, 32)]
    )
    checks.expect_output_shapes(shapes, lambda shape: (shape[0], 2))
    manual = checks.output_shapes(nb, nb.new("CNNClassifier"), [(1, 3, 32, 32)])
    checks.expect_output_shapes(manual, lambda shape: (shape[0], 10))


#: Images the public preparation check measures the trained model on: a public seed, not the
#: hidden tests' images.
PUBLIC_IMAGES, PUBLIC_SEED = 300, 77


def test_input_preparation(nb):
    """Warns before submission when the trained model only works on the notebook's own
    preparation of its inputs (the hidden accuracy test measures new images)."""
    assert nb.exists("model"), "the notebook has no trained `model`: run the training cell"
    # Standardised per image as section 0 does, or as read_image_folder returns them for a
    # notebook with its own preprocess(x) (checks.accuracy passes them through it).
    x, y = image_folder_sample(
        PUBLIC_IMAGES, PUBLIC_SEED, shuffle=False, standardize=not nb.exists(PREPROCESS)
    )
    checks.expect_input_preparation(
        nb,
        "model",
        x,
        y,
        own=checks.reported_number(nb, "test_accuracy"),
        inputs=f"{PUBLIC_IMAGES} new images prepared as section 0 states",
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
