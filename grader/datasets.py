"""Datasets for the assignments, in two tiers that share one shape.

* ``full``: the dataset a lab names (CIFAR-10), read from a cache the instructor
  provisions: ``$GRADER_DATA``, ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``.
* ``offline``: a stand-in built from scikit-learn's bundled ``load_digits`` (real
  handwritten digits, shipped with the library), rendered at CIFAR's shape: 3 x 32 x 32
  float32 in [0, 1], ten classes. CI and demos always have it.

Both the student's kernel (``from grader.datasets import load_cifar10``) and the grader's
tests import this module, so a test can regenerate exactly the data the notebook saw, or
draw a fresh held-out set whose labels never enter the kernel. That is why it imports
only NumPy and scikit-learn, and why every draw is a pure function of its arguments.

Set ``DLGRADER_DATA_TIER=offline|full`` to force a tier, so that the grader and the
kernel agree even when they see different caches.
"""

from __future__ import annotations

import functools
import os
import pickle
from pathlib import Path
from typing import NamedTuple

import numpy as np

TIERS = ("full", "offline")
TIER_ENV = "DLGRADER_DATA_TIER"
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
#: Fixed seed of the offline stand-in's train/test split of the 1,797 source digits.
#: It never changes with the caller's seed, so a test digit is never a training digit.
DIGIT_SPLIT_SEED = 20_240_601
DIGIT_TEST_COUNT = 360
#: Offline renders returned when the caller asks for everything (CIFAR's 5:1 ratio).
OFFLINE_DEFAULT_SIZES = (5_000, 1_000)


class ImageSplit(NamedTuple):
    """Images (N, 3, 32, 32) float32 in [0, 1] and int64 labels, train and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


# -- where the full datasets live --------------------------------------------------


def data_dirs() -> list[Path]:
    """Folders searched for real datasets, in order of preference."""
    candidates = [os.environ.get("GRADER_DATA")]
    if os.environ.get("KERAS_HOME"):
        candidates.append(str(Path(os.environ["KERAS_HOME"]) / "datasets"))
    candidates.append(str(Path.home() / ".keras" / "datasets"))
    return [Path(c) for c in candidates if c and Path(c).is_dir()]


def find_cifar10() -> Path | None:
    """``cifar10.npz`` (preferred: no pickle) or the ``cifar-10-batches-py`` folder."""
    for folder in data_dirs():
        npz = folder / "cifar10.npz"
        if npz.is_file():
            return npz
        batches = folder / "cifar-10-batches-py"
        if (batches / "data_batch_1").is_file() and (batches / "test_batch").is_file():
            return batches
    return None


_FINDERS = {"cifar10": find_cifar10}


def tier(name: str = "cifar10") -> str:
    """``full`` if the real dataset ``name`` is provisioned (or forced), else ``offline``."""
    if name not in _FINDERS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(sorted(_FINDERS))}")
    forced = os.environ.get(TIER_ENV, "").strip().lower()
    if forced in TIERS:
        return forced
    if forced:
        raise ValueError(f"{TIER_ENV}={forced!r}: expected one of {', '.join(TIERS)}")
    return "full" if _FINDERS[name]() is not None else "offline"


_auto_tier = tier  # load_cifar10's ``tier`` argument shadows the function's name


def describe() -> str:
    """Which datasets are present, and how to provide the missing ones."""
    lines = [f"searched: {', '.join(str(d) for d in data_dirs()) or '(no data folder exists)'}"]
    found = find_cifar10()
    if found is not None:
        lines.append(f"cifar10: full tier, from {found}")
    else:
        lines.append(
            "cifar10: offline tier (scikit-learn digits rendered as 3x32x32 colour images). "
            "For the full tier put CIFAR-10's python batches in $GRADER_DATA/cifar-10-batches-py/ "
            "(or ~/.keras/datasets/), or a cifar10.npz with x_train, y_train, x_test, y_test "
            "(see convert_cifar10_to_npz)."
        )
    if os.environ.get(TIER_ENV):
        lines.append(f"{TIER_ENV}={os.environ[TIER_ENV]} forces the tier")
    return "\n".join(lines)


# -- CIFAR-10, full tier -----------------------------------------------------------


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


def _subset(count: int, n: int | None, rng: np.random.Generator) -> np.ndarray:
    if n is None:
        return np.arange(count)
    if not 0 <= n <= count:
        raise ValueError(f"asked for {n} images; the full tier has {count}")
    return np.sort(rng.permutation(count)[:n])


def _load_full(n_train: int | None, n_test: int | None, seed: int) -> ImageSplit:
    source = find_cifar10()
    if source is None:
        raise FileNotFoundError(
            f"the full tier was asked for, but CIFAR-10 is missing.\n{describe()}"
        )
    x_train, y_train, x_test, y_test = _read_cifar10(source)
    train = _subset(len(x_train), n_train, np.random.default_rng([seed, 0]))
    test = _subset(len(x_test), n_test, np.random.default_rng([seed, 1]))
    scale = np.float32(1 / 255)
    return ImageSplit(
        x_train[train].astype(np.float32) * scale,
        y_train[train],
        x_test[test].astype(np.float32) * scale,
        y_test[test],
    )


# -- CIFAR-10 shape, offline tier ------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _digit_sources() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 1,797 digits in [0, 1], split once into fixed train and test pools."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float64)
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(DIGIT_SPLIT_SEED).permutation(len(images))
    test, train = order[:DIGIT_TEST_COUNT], order[DIGIT_TEST_COUNT:]
    pools = images[train], labels[train], images[test], labels[test]
    for array in pools:
        array.setflags(write=False)
    return pools


def _bilinear_matrix(size: int, source: int = 8) -> np.ndarray:
    """(size, source) weights that resample a line of ``source`` pixels to ``size``."""
    positions = np.clip((np.arange(size) + 0.5) * source / size - 0.5, 0, source - 1)
    low = np.floor(positions).astype(int)
    high = np.minimum(low + 1, source - 1)
    weight = positions - low
    matrix = np.zeros((size, source))
    matrix[np.arange(size), low] += 1 - weight
    matrix[np.arange(size), high] += weight
    return matrix


def render_digits(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw 8x8 digits as varied colour photographs-to-be: (N, 3, 32, 32) float32.

    Each digit gets a random size (24-28 px) and position, a random background colour
    with a gentle gradient, a foreground colour at least 0.3 away in every channel, and
    pixel noise. Colour alone never tells the class, so a network must learn shapes, and
    one epoch is not enough for 100%.
    """
    count = len(images)
    masks = np.zeros((count, 32, 32))
    sizes = rng.integers(24, 29, count)
    offsets = rng.integers(0, 33 - sizes[:, None], (count, 2))
    for size in np.unique(sizes):
        chosen = np.flatnonzero(sizes == size)
        matrix = _bilinear_matrix(int(size))
        scaled = np.einsum("ij,njk,lk->nil", matrix, images[chosen], matrix)
        for index, glyph in zip(chosen, scaled, strict=True):
            row, col = offsets[index]
            masks[index, row : row + size, col : col + size] = glyph
    background = rng.uniform(0, 1, (count, 3))
    foreground = (background + rng.uniform(0.3, 0.7, (count, 3))) % 1.0
    ramp = np.linspace(-1, 1, 32)
    slopes = rng.uniform(-0.12, 0.12, (count, 2))
    gradient = slopes[:, 0, None, None] * ramp[None, :, None] + (
        slopes[:, 1, None, None] * ramp[None, None, :]
    )
    backdrop = background[:, :, None, None] + gradient[:, None]
    mask = np.clip(masks, 0, 1)[:, None]
    pictures = backdrop * (1 - mask) + foreground[:, :, None, None] * mask
    pictures += rng.normal(0, 0.06, pictures.shape)
    return np.clip(pictures, 0, 1).astype(np.float32)


def _draw(pool_x: np.ndarray, pool_y: np.ndarray, n: int, rng: np.random.Generator):
    """``n`` renders of digits from a pool, cycling through it in a seeded order."""
    rounds = -(-n // len(pool_x)) if n else 0
    picks = np.concatenate([rng.permutation(len(pool_x)) for _ in range(rounds)] or [[]])
    picks = picks[:n].astype(int)
    return render_digits(pool_x[picks], rng), pool_y[picks].copy()


def _load_offline(n_train: int | None, n_test: int | None, seed: int) -> ImageSplit:
    train_x, train_y, test_x, test_y = _digit_sources()
    x_train, y_train = _draw(
        train_x,
        train_y,
        OFFLINE_DEFAULT_SIZES[0] if n_train is None else n_train,
        np.random.default_rng([seed, 0]),
    )
    x_test, y_test = _draw(
        test_x,
        test_y,
        OFFLINE_DEFAULT_SIZES[1] if n_test is None else n_test,
        np.random.default_rng([seed, 1]),
    )
    return ImageSplit(x_train, y_train, x_test, y_test)


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
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if value is not None and (not isinstance(value, int | np.integer) or value < 0):
            raise ValueError(f"{name} must be a non-negative integer or None, not {value!r}")
    chosen = tier or _auto_tier("cifar10")
    if chosen == "full":
        return _load_full(n_train, n_test, int(seed))
    if chosen == "offline":
        return _load_offline(n_train, n_test, int(seed))
    raise ValueError(f"tier must be one of {', '.join(TIERS)}, not {chosen!r}")


# -- small numeric problems for the NumPy assignments -----------------------------------


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    """The XOR truth table: X (4, 2) and Y (4, 1), float64."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return x, np.array([[0], [1], [1], [0]], dtype=np.float64)


def regression_data(n: int, n_in: int, n_out: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs (standard normal) and targets in (0.05, 0.95): float64, seeded.

    Targets stay inside a sigmoid's range, so a network can fit them and a gradient
    check sees no saturated units.
    """
    rng = np.random.default_rng([seed, n, n_in, n_out])
    return rng.normal(size=(n, n_in)), rng.uniform(0.05, 0.95, size=(n, n_out))
