"""MNIST: the full dataset from a cache, or its offline stand-in at the same shape.

Both tiers give (N, 28, 28) float32 images in [0, 1], light digits on a dark ground, and
int64 labels 0-9. The stand-in upsamples scikit-learn's real 8x8 digits to 16-22 pixels
and places them, as MNIST does, roughly centred with a few pixels of jitter.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from grader.datasets.cache import TIERS, find_mnist
from grader.datasets.cache import describe as describe_datasets
from grader.datasets.cache import tier as auto_tier
from grader.datasets.digits import ImageSplit, check_sizes, full_split, offline_split, place_glyphs

MNIST_SHAPE = (28, 28)
#: Offline renders returned when the caller asks for everything (MNIST's 6:1 ratio).
MNIST_OFFLINE_SIZES = (6_000, 1_000)
_IDX_DTYPES = {0x08: np.uint8}


def render_mnist(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """8x8 digits as MNIST-like 28x28 greyscale images: (N, 28, 28) float32.

    Each digit gets a size (16-22 px), a position near the centre, a stroke brightness and
    a little sensor noise on the strokes only, so the background stays at 0 as in MNIST.
    """
    count = len(images)
    sizes = rng.integers(16, 23, count)
    centred = (28 - sizes) // 2
    jitter = rng.integers(-2, 3, (count, 2))
    offsets = np.clip(centred[:, None] + jitter, 0, 28 - sizes[:, None])
    strokes = place_glyphs(images, 28, sizes, offsets)
    gain = rng.uniform(0.85, 1.0, (count, 1, 1))
    noise = rng.normal(0, 0.05, strokes.shape) * (strokes > 0.05)
    return np.clip(strokes * gain + noise, 0, 1).astype(np.float32)


def signed_vectors(images: np.ndarray) -> np.ndarray:
    """Images in [0, 1] as the GAN lab's inputs: (N, 784) float32 in [-1, 1].

    A generator that ends in Tanh produces values in [-1, 1], so the real images it is
    compared with are flattened and scaled the same way (MNIST's ``Normalize((0.5,),
    (0.5,))``). The notebook and the grader's tests call this one function, so both
    prepare real images identically.
    """
    pixels = np.asarray(images, dtype=np.float32)
    if pixels.ndim < 2:
        raise ValueError(f"expected a batch of images, got an array of shape {pixels.shape}")
    return (pixels.reshape(len(pixels), -1) * 2.0 - 1.0).astype(np.float32)


def _read_idx(path: Path) -> np.ndarray:
    """One idx file (MNIST's own format: a magic number, the sizes, then raw bytes)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an idx file of unsigned bytes")
    ndim = raw[3]
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4))
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims}, file holds {data.size} values")
    return data.reshape(dims)


def _read_mnist(source: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """uint8 (N, 28, 28) images and int64 labels from ``mnist.npz`` or the idx folder."""
    if source.suffix == ".npz":
        with np.load(source, allow_pickle=False) as arrays:
            x_train, y_train, x_test, y_test = (
                arrays[k] for k in ("x_train", "y_train", "x_test", "y_test")
            )
    else:

        def idx(name: str) -> np.ndarray:
            plain = source / name
            return _read_idx(plain if plain.is_file() else source / f"{name}.gz")

        x_train, y_train = idx("train-images-idx3-ubyte"), idx("train-labels-idx1-ubyte")
        x_test, y_test = idx("t10k-images-idx3-ubyte"), idx("t10k-labels-idx1-ubyte")
    for images in (x_train, x_test):
        if images.ndim != 3 or images.shape[1:] != MNIST_SHAPE:
            raise ValueError(
                f"{source}: MNIST images have shape {images.shape}, expected (N, 28, 28)"
            )
    return x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64)


def _load_full(n_train: int | None, n_test: int | None, seed: int) -> ImageSplit:
    source = find_mnist()
    if source is None:
        raise FileNotFoundError(
            f"the full tier was asked for, but MNIST is missing.\n{describe_datasets()}"
        )
    return full_split(_read_mnist(source), n_train, n_test, seed)


def load_mnist(
    n_train: int | None = None,
    n_test: int | None = None,
    seed: int = 0,
    tier: str | None = None,
) -> ImageSplit:
    """MNIST-shaped data: (N, 28, 28) float32 in [0, 1] and int64 labels 0-9.

    ``n_train``/``n_test`` take a seeded subset (None: all 60,000 / 10,000 of the full
    tier; 6,000 / 1,000 renders in the offline tier, training images from 1,437 source
    digits and test images from 360 others). The test part depends only on ``seed`` and
    ``n_test``. ``tier`` None picks ``full`` when MNIST is provisioned.
    """
    check_sizes(n_train, n_test)
    chosen = tier or auto_tier("mnist")
    if chosen == "full":
        return _load_full(n_train, n_test, int(seed))
    if chosen == "offline":
        sizes = (
            MNIST_OFFLINE_SIZES[0] if n_train is None else n_train,
            MNIST_OFFLINE_SIZES[1] if n_test is None else n_test,
        )
        return offline_split(*sizes, int(seed), render_mnist)
    raise ValueError(f"tier must be one of {', '.join(TIERS)}, not {chosen!r}")
