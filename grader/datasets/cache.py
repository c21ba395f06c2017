"""Where the full datasets live, which tier a dataset gets, and how to provide one.

Finders only look for files; reading them is the dataset modules' job. ``tier`` is what
the grader and the kernel both call, so they agree on the data a notebook sees.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

TIERS = ("full", "offline")
TIER_ENV = "DLGRADER_DATA_TIER"

#: File names torchvision keeps for MNIST under ``MNIST/raw/`` (plain or gzipped).
MNIST_IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


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


def _idx_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def find_mnist() -> Path | None:
    """Keras's ``mnist.npz``, or torchvision's ``MNIST/raw`` folder of idx files."""
    for folder in data_dirs():
        npz = folder / "mnist.npz"
        if npz.is_file():
            return npz
        raw = folder / "MNIST" / "raw"
        if all(_idx_file(raw, name) for name in MNIST_IDX_FILES):
            return raw
    return None


_FINDERS: dict[str, Callable[[], Path | None]] = {"cifar10": find_cifar10, "mnist": find_mnist}

_HOW_TO_PROVIDE = {
    "cifar10": (
        "scikit-learn digits rendered as 3x32x32 colour images",
        "put CIFAR-10's python batches in $GRADER_DATA/cifar-10-batches-py/ (or "
        "~/.keras/datasets/), or a cifar10.npz with x_train, y_train, x_test, y_test "
        "(see grader.datasets.convert_cifar10_to_npz)",
    ),
    "mnist": (
        "scikit-learn digits rendered as 28x28 greyscale images",
        "put Keras's mnist.npz in $GRADER_DATA/ (or ~/.keras/datasets/), or torchvision's "
        "MNIST/raw/ idx files under $GRADER_DATA/",
    ),
}


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


def describe() -> str:
    """Which datasets are present, and how to provide the missing ones."""
    lines = [f"searched: {', '.join(str(d) for d in data_dirs()) or '(no data folder exists)'}"]
    for name, finder in _FINDERS.items():
        found = finder()
        stand_in, how = _HOW_TO_PROVIDE[name]
        if found is not None:
            lines.append(f"{name}: full tier, from {found}")
        else:
            lines.append(f"{name}: offline tier ({stand_in}). For the full tier {how}.")
    if os.environ.get(TIER_ENV):
        lines.append(f"{TIER_ENV}={os.environ[TIER_ENV]} forces the tier")
    return "\n".join(lines)
