"""Hidden tests for the autoencoder lab: training and validation use normal images only.

``split_normal`` is called with labels the grader draws and another anomaly digit (4),
so a hard-coded 7 fails. Then the notebook's own ``fit_index`` and ``val_index`` are
checked against the labels of its training images, which the grader regenerates in its
own process: ``load_mnist`` is a pure function of the notebook's ``N_TRAIN``, ``N_TEST``,
``SEED`` and the data tier.
"""

from __future__ import annotations

import functools

import numpy as np

from grader.datasets import load_mnist

ANOMALY_DIGIT = 7
#: What load_mnist is called with: the notebook's values, or the lab's defaults (load_mnist's
#: own: every image, seed 0) when its cells do not use these names (assignment.yaml).
DATA_SETTINGS = ("N_TRAIN", "N_TEST", "SEED")


def index_array(value: object, what: str) -> np.ndarray:
    assert isinstance(value, np.ndarray) and value.dtype.kind in "iu" and value.ndim == 1, (
        f"{what} must be a 1-D NumPy array of integer indices, not {type(value).__name__}"
    )
    return value.astype(np.int64)


def expect_normal_split(labels, fit, val, anomaly: int, where: str) -> None:
    """Both parts hold normal images only, none twice, and together every normal image."""
    assert fit.size and val.size, f"{where}: both the fit and the validation part must be non-empty"
    assert fit.min() >= 0 and val.min() >= 0 and max(fit.max(), val.max()) < len(labels), (
        f"{where}: an index is outside the {len(labels)} images"
    )
    for part, index in (("fit", fit), ("validation", val)):
        count = int(np.count_nonzero(labels[index] == anomaly))
        assert count == 0, (
            f"{where}: the {part} part holds {count} images of the anomaly digit {anomaly}; "
            "an autoencoder for anomaly detection must learn from normal images only"
        )
    both = np.concatenate([fit, val])
    assert len(np.unique(both)) == len(both), (
        f"{where}: an image is used twice (in both parts, or twice in one): each normal "
        "image goes to exactly one part"
    )
    normal = np.flatnonzero(labels != anomaly)
    assert np.array_equal(np.sort(both), normal), (
        f"{where}: the two parts hold {len(both)} images, but there are {len(normal)} normal "
        "ones: use every normal image exactly once"
    )


def test_split_normal_on_fresh_labels(nb):
    labels = np.random.default_rng(77).integers(0, 10, 203)
    normal = int(np.count_nonzero(labels != 4))
    halves = {}
    for seed in (3, 4):
        result = nb.call("split_normal", labels, 4, 0.2, seed)
        assert isinstance(result, tuple | list) and len(result) == 2, (
            "split_normal must return a pair (fit_index, val_index)"
        )
        fit = index_array(result[0], "fit_index")
        val = index_array(result[1], "val_index")
        expect_normal_split(labels, fit, val, 4, "split_normal(labels, 4, 0.2, seed)")
        wanted = {int(normal * 0.2), round(normal * 0.2)}
        assert len(val) in wanted, (
            f"split_normal kept {len(val)} of {normal} normal images for validation; "
            f"val_fraction 0.2 means {int(normal * 0.2)}"
        )
        halves[seed] = set(val.tolist())
    assert halves[3] != halves[4], (
        "split_normal chose the same validation images for seeds 3 and 4: pick them at "
        "random with np.random.default_rng(seed)"
    )


@functools.lru_cache(maxsize=2)
def training_labels(n_train, n_test, seed, tier: str) -> np.ndarray:
    return load_mnist(n_train=n_train, n_test=n_test, seed=seed, tier=tier).y_train


def test_notebook_uses_normal_images_only(nb):
    for name in ("fit_index", "val_index"):
        assert nb.exists(name), f"the notebook has no `{name}`: run the split cell"
    labels = training_labels(*(nb.setting(name) for name in DATA_SETTINGS), nb.tier)
    fit = index_array(nb.get("fit_index"), "fit_index")
    val = index_array(nb.get("val_index"), "val_index")
    nb.record("fit_images", len(fit))
    nb.record("val_images", len(val))
    expect_normal_split(labels, fit, val, ANOMALY_DIGIT, "the notebook's split")
