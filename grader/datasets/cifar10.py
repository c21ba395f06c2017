"""CIFAR-10: the full dataset from a cache, or its offline stand-in at the same shape.

The stand-in renders scikit-learn's digits as 3 x 32 x 32 colour pictures in [0, 1], ten
classes, with colours, sizes and positions that vary, so a network must learn shapes.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from grader.datasets.cache import TIERS, find_cifar10
from grader.datasets.cache import describe as describe_datasets
from grader.datasets.cache import tier as auto_tier
from grader.datasets.digits import ImageSplit, check_sizes, full_split, offline_split, place_glyphs

IMAGE_SHAPE = (3, 32, 32)
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
#: Offline renders returned when the caller asks for everything (CIFAR's 5:1 ratio).
OFFLINE_DEFAULT_SIZES = (5_000, 1_000)


# -- full tier ---------------------------------------------------------------------------


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickles CIFAR's batch files and nothing else: only NumPy's array rebuilders.

    CIFAR-10's own python format is pickle. It is read only from the instructor's
    read-only data folder, never from anything a kernel produced; this allow-list is a
    second line of defence should a planted file sit there.
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with path.open("rb") as handle:
        batch = _ArrayOnlyUnpickler(handle, encoding="bytes").load()
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise ValueError(f"{path} is not a CIFAR-10 batch (no data/labels)")
    data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, *IMAGE_SHAPE)
    return data, np.asarray(batch[b"labels"], dtype=np.int64)


def _read_cifar10(source: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """uint8 (N, 3, 32, 32) images and int64 labels from an .npz or the batch folder."""
    if source.suffix == ".npz":
        with np.load(source, allow_pickle=False) as arrays:
            parts = [arrays[k] for k in ("x_train", "y_train", "x_test", "y_test")]
        x_train, y_train, x_test, y_test = parts
        return (
            _chw(x_train),
            y_train.reshape(-1).astype(np.int64),
            _chw(x_test),
            (y_test.reshape(-1).astype(np.int64)),
        )
    train = [_read_batch(source / f"data_batch_{i}") for i in range(1, 6)]
    x_test, y_test = _read_batch(source / "test_batch")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return x_train, y_train, x_test, y_test


def _chw(images: np.ndarray) -> np.ndarray:
    """Accept Keras's (N, 32, 32, 3) layout as well as (N, 3, 32, 32)."""
    if images.ndim == 4 and images.shape[1:] == (32, 32, 3):
        images = images.transpose(0, 3, 1, 2)
    if images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"CIFAR-10 images have shape {images.shape}, expected (N, 3, 32, 32)")
    return np.ascontiguousarray(images)


def convert_cifar10_to_npz(batches_dir: Path, out_path: Path) -> Path:
    """Write the python batches once as ``cifar10.npz``, which loads without pickle."""
    x_train, y_train, x_test, y_test = _read_cifar10(Path(batches_dir))
    np.savez(out_path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return Path(out_path)


def _load_full(n_train: int | None, n_test: int | None, seed: int) -> ImageSplit:
    source = find_cifar10()
    if source is None:
        raise FileNotFoundError(
            f"the full tier was asked for, but CIFAR-10 is missing.\n{describe_datasets()}"
        )
    return full_split(_read_cifar10(source), n_train, n_test, seed)


# -- offline tier ----------------------------------------------------------------------


def render_digits(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw 8x8 digits as varied colour photographs-to-be: (N, 3, 32, 32) float32.

    Each digit gets a random size (24-28 px) and position, a random background colour
    with a gentle gradient, a foreground colour at least 0.3 away in every channel, and
    pixel noise. Colour alone never tells the class, so a network must learn shapes, and
    one epoch is not enough for 100%.
    """
    count = len(images)
    sizes = rng.integers(24, 29, count)
    offsets = rng.integers(0, 33 - sizes[:, None], (count, 2))
    masks = place_glyphs(images, 32, sizes, offsets)
    background = rng.uniform(0, 1, (count, 3))
    foreground = (background + rng.uniform(0.3, 0.7, (count, 3))) % 1.0
    ramp = np.linspace(-1, 1, 32)
    slopes = rng.uniform(-0.12, 0.12, (count, 2))
    gradient = slopes[:, 0, None, None] * ramp[None, :, None] + (
        slopes[:, 1, None, None] * ramp[None, None, :]
    )
    backdrop = background[:, :, None, None] + gradient[:, None]
    mask = masks[:, None]
    pictures = backdrop * (1 - mask) + foreground[:, :, None, None] * mask
    pictures += rng.normal(0, 0.06, pictures.shape)
    return np.clip(pictures, 0, 1).astype(np.float32)


def load_cifar10(
    n_train: int | None = None,
    n_test: int | None = None,
    seed: int = 0,
    tier: str | None = None,
) -> ImageSplit:
    """CIFAR-10-shaped data: (N, 3, 32, 32) float32 in [0, 1] and int64 labels 0-9.

    ``n_train``/``n_test`` take a seeded subset (None: all 50,000 / 10,000 of the full
    tier; 5,000 / 1,000 renders in the offline tier, which draws its training images from
    1,437 source digits and its test images from 360 others, each render with new colours,
    size and position). The test part depends only on ``seed`` and ``n_test``, never on
    ``n_train``. ``tier`` None picks ``full`` when CIFAR-10 is provisioned.
    """
    check_sizes(n_train, n_test)
    chosen = tier or auto_tier("cifar10")
    if chosen == "full":
        return _load_full(n_train, n_test, int(seed))
    if chosen == "offline":
        sizes = (
            OFFLINE_DEFAULT_SIZES[0] if n_train is None else n_train,
            OFFLINE_DEFAULT_SIZES[1] if n_test is None else n_test,
        )
        return offline_split(*sizes, int(seed), render_digits)
    raise ValueError(f"tier must be one of {', '.join(TIERS)}, not {chosen!r}")
