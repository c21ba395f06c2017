"""Datasets for the assignments, in two tiers that share one shape.

* ``full``: the dataset a lab names (CIFAR-10, MNIST), read from a cache the instructor
  provisions: ``$GRADER_DATA``, ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``.
* ``offline``: a stand-in built from scikit-learn's bundled ``load_digits`` (real
  handwritten digits, shipped with the library), rendered at the named dataset's shape.
  CI and demos always have it.

Both the student's kernel (``from grader.datasets import load_cifar10``) and the grader's
tests import this package, so a test can regenerate exactly the data the notebook saw, or
draw a fresh held-out set whose labels never enter the kernel. That is why it imports
only NumPy and scikit-learn (Pillow for image folders), and why every draw is a pure
function of its arguments.

Set ``DLGRADER_DATA_TIER=offline|full`` to force a tier, so that the grader and the
kernel agree even when they see different caches.
"""

from grader.datasets.cache import (
    TIER_ENV,
    TIERS,
    data_dirs,
    describe,
    find_cifar10,
    find_mnist,
    tier,
)
from grader.datasets.cifar10 import (
    CIFAR10_CLASSES,
    IMAGE_SHAPE,
    OFFLINE_DEFAULT_SIZES,
    convert_cifar10_to_npz,
    load_cifar10,
    render_digits,
)
from grader.datasets.digits import DIGIT_SPLIT_SEED, DIGIT_TEST_COUNT, ImageSplit, digit_sources
from grader.datasets.folders import (
    DIGIT_NAMES,
    image_folder_sample,
    read_image_folder,
    standardize_images,
    write_image_folder,
)
from grader.datasets.mnist import (
    MNIST_OFFLINE_SIZES,
    MNIST_SHAPE,
    load_mnist,
    render_mnist,
    signed_vectors,
)
from grader.datasets.small import regression_data, xor_data

__all__ = [
    "CIFAR10_CLASSES",
    "DIGIT_NAMES",
    "DIGIT_SPLIT_SEED",
    "DIGIT_TEST_COUNT",
    "IMAGE_SHAPE",
    "MNIST_OFFLINE_SIZES",
    "MNIST_SHAPE",
    "OFFLINE_DEFAULT_SIZES",
    "TIERS",
    "TIER_ENV",
    "ImageSplit",
    "convert_cifar10_to_npz",
    "data_dirs",
    "describe",
    "digit_sources",
    "find_cifar10",
    "find_mnist",
    "image_folder_sample",
    "load_cifar10",
    "load_mnist",
    "read_image_folder",
    "regression_data",
    "render_digits",
    "render_mnist",
    "signed_vectors",
    "standardize_images",
    "tier",
    "write_image_folder",
    "xor_data",
]
