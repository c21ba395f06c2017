"""An ImageFolder-style tree of PNG files: ``root/{train,test}/<class>/<n>.png``.

The GPU lab reads images from folders, as torchvision's ``ImageFolder`` does. No such
tree can be downloaded here, so the offline tier writes one: two digit classes of the
CIFAR-shaped colour renders (real handwritten digits), as 32x32 RGB PNG files.
``read_image_folder`` reads any such tree back with Pillow and NumPy alone, since
torchvision does not import against the CPU torch.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

from grader.datasets.cifar10 import render_digits
from grader.datasets.digits import digit_sources, draw

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _pool(images: np.ndarray, labels: np.ndarray, digits: tuple[int, ...]):
    keep = np.isin(labels, digits)
    return images[keep], labels[keep]


def write_image_folder(
    root: str | Path,
    n_train: int = 600,
    n_test: int = 200,
    digits: tuple[int, int] = (3, 8),
    seed: int = 0,
) -> Path:
    """Write a two-class tree of colour digit images under ``root`` and return it.

    Classes are named after the digits (``three``, ``eight``: similar shapes, so the
    task is not trivial). Test images come from source digits no training image uses.
    Calling again with the same arguments writes the same files.
    """
    from PIL import Image

    root = Path(root)
    train_x, train_y, test_x, test_y = digit_sources()
    parts = {
        "train": (_pool(train_x, train_y, digits), n_train, 0),
        "test": (_pool(test_x, test_y, digits), n_test, 1),
    }
    for part, ((pool_x, pool_y), n, stream) in parts.items():
        rng = np.random.default_rng([seed, stream, *digits])
        images, labels = draw(pool_x, pool_y, n, rng, render_digits)
        for name in (DIGIT_NAMES[d] for d in digits):
            (root / part / name).mkdir(parents=True, exist_ok=True)
        for index, (image, label) in enumerate(zip(images, labels, strict=True)):
            pixels = np.round(image.transpose(1, 2, 0) * 255).astype(np.uint8)
            Image.fromarray(pixels, "RGB").save(
                root / part / DIGIT_NAMES[label] / f"{index:05d}.png"
            )
    return root


def read_image_folder(folder: str | Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images (N, 3, H, W) float32 in [0, 1], labels by sorted class name, and the names."""
    from PIL import Image

    folder = Path(folder)
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise FileNotFoundError(f"{folder} has no class folders")
    images, labels = [], []
    for label, name in enumerate(classes):
        for path in sorted((folder / name).glob("*.png")):
            with Image.open(path) as picture:
                pixels = np.asarray(picture.convert("RGB"), dtype=np.float32) / 255
            images.append(pixels.transpose(2, 0, 1))
            labels.append(label)
    if not images:
        raise FileNotFoundError(f"{folder}: the class folders hold no .png images")
    return np.stack(images), np.asarray(labels, dtype=np.int64), classes


def standardize_images(images: np.ndarray) -> np.ndarray:
    """The GPU lab's fixed transform: per image and channel, zero mean and unit spread."""
    mean = images.mean(axis=(2, 3), keepdims=True)
    std = images.std(axis=(2, 3), keepdims=True)
    return ((images - mean) / (std + 1e-5)).astype(np.float32)


@functools.lru_cache(maxsize=8)
def image_folder_sample(
    count: int, seed: int, shuffle: bool = True, standardize: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` standardised images of the tree's test pool and their labels (read-only).

    Written to a temporary tree and read back, exactly as a notebook gets them, so a test
    feeds the student's code what the notebook's own pipeline would produce. With
    ``standardize=False`` the images stay as ``read_image_folder`` returns them (float32 in
    [0, 1]), for a notebook that prepares its inputs its own way (``preprocess(x)``).
    """
    with tempfile.TemporaryDirectory() as folder:
        root = write_image_folder(Path(folder), n_train=0, n_test=count, seed=seed)
        images, labels, _ = read_image_folder(root / "test")
    if shuffle:
        order = np.random.default_rng(seed).permutation(len(labels))
        images, labels = images[order], labels[order]
    if standardize:
        images = standardize_images(images)
    for array in (images, labels):
        array.setflags(write=False)
    return images, labels
