"""grader.datasets: both tiers give CIFAR's shapes and dtypes, deterministically.

The kernel and the grader regenerate the same data independently, so determinism is
what the accuracy tests rest on; the full-tier readers are exercised on small fake
caches (an .npz and python-pickle batches) built in a temporary folder.
"""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

from grader import datasets

pytestmark = pytest.mark.usefixtures("no_real_caches")


def test_offline_shapes_dtypes_and_ranges():
    split = datasets.load_cifar10(n_train=300, n_test=120, seed=0, tier="offline")
    assert split.x_train.shape == (300, 3, 32, 32)
    assert split.x_test.shape == (120, 3, 32, 32)
    assert split.x_train.dtype == np.float32 and split.x_test.dtype == np.float32
    assert split.y_train.dtype == np.int64 and split.y_test.dtype == np.int64
    assert split.y_train.shape == (300,) and split.y_test.shape == (120,)
    for images in (split.x_train, split.x_test):
        assert images.min() >= 0.0 and images.max() <= 1.0
        assert images.std() > 0.1  # not blank
    assert set(np.unique(split.y_train)) == set(range(10))


def test_offline_defaults_have_cifars_ratio():
    split = datasets.load_cifar10(seed=1, tier="offline")
    assert (len(split.x_train), len(split.x_test)) == datasets.OFFLINE_DEFAULT_SIZES


def test_same_seed_same_data_other_seed_other_data():
    first = datasets.load_cifar10(n_train=50, n_test=20, seed=3, tier="offline")
    again = datasets.load_cifar10(n_train=50, n_test=20, seed=3, tier="offline")
    other = datasets.load_cifar10(n_train=50, n_test=20, seed=4, tier="offline")
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(first.x_train, other.x_train)
    assert not np.array_equal(first.x_test, other.x_test)


def test_test_part_does_not_depend_on_n_train():
    small = datasets.load_cifar10(n_train=0, n_test=40, seed=9, tier="offline")
    large = datasets.load_cifar10(n_train=500, n_test=40, seed=9, tier="offline")
    assert len(small.x_train) == 0 and small.x_train.shape[1:] == (3, 32, 32)
    assert np.array_equal(small.x_test, large.x_test)
    assert np.array_equal(small.y_test, large.y_test)


def test_train_and_test_digits_never_overlap():
    train_x, _, test_x, _ = datasets.digit_sources()
    train_rows = {row.tobytes() for row in train_x.reshape(len(train_x), -1)}
    shared = sum(row.tobytes() in train_rows for row in test_x.reshape(len(test_x), -1))
    # load_digits has a few exact duplicate images; the split itself is disjoint by index.
    assert shared <= 3
    assert len(train_x) + len(test_x) == 1797


def test_more_renders_than_digits_recolours_the_pool():
    split = datasets.load_cifar10(n_train=3000, n_test=0, seed=2, tier="offline")
    assert len(split.x_train) == 3000
    assert len({image.tobytes() for image in split.x_train[:2000]}) == 2000


def test_colour_does_not_give_the_class_away():
    split = datasets.load_cifar10(n_train=2000, n_test=0, seed=5, tier="offline")
    colours = split.x_train.mean(axis=(2, 3))  # (N, 3): each image's average colour
    fit, held = slice(0, 1500), slice(1500, None)
    centres = np.array([colours[fit][split.y_train[fit] == k].mean(axis=0) for k in range(10)])
    distances = ((colours[held][:, None, :] - centres[None]) ** 2).sum(axis=2)
    accuracy = np.mean(distances.argmin(axis=1) == split.y_train[held])
    assert accuracy < 0.2  # chance is 0.1: a classifier must look at shapes


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="n_train"):
        datasets.load_cifar10(n_train=-1, tier="offline")
    with pytest.raises(ValueError, match="tier"):
        datasets.load_cifar10(n_train=1, tier="imagenet")
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.tier("mnist-ish")


def test_tier_is_offline_without_a_cache_and_can_be_forced(monkeypatch):
    assert datasets.tier("cifar10") == "offline"
    monkeypatch.setenv(datasets.TIER_ENV, "full")
    assert datasets.tier("cifar10") == "full"
    monkeypatch.setenv(datasets.TIER_ENV, "fast")
    with pytest.raises(ValueError, match=datasets.TIER_ENV):
        datasets.tier("cifar10")


def test_full_tier_without_data_says_how_to_provide_it():
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py"):
        datasets.load_cifar10(n_train=1, tier="full")
    assert "offline tier" in datasets.describe()


def _fake_cifar(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.integers(0, 256, size=(count, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, count)


def test_full_tier_reads_an_npz_in_keras_layout(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    x_train, y_train = _fake_cifar(rng, 40)
    x_test, y_test = _fake_cifar(rng, 12)
    np.savez(
        tmp_path / "cifar10.npz",
        x_train=x_train,
        y_train=y_train.reshape(-1, 1),
        x_test=x_test,
        y_test=y_test,
    )
    monkeypatch.setenv("GRADER_DATA", str(tmp_path))
    assert datasets.tier("cifar10") == "full"
    split = datasets.load_cifar10()
    assert split.x_train.shape == (40, 3, 32, 32) and split.x_train.dtype == np.float32
    assert np.allclose(split.x_train[0], x_train[0].transpose(2, 0, 1) / 255.0)
    assert np.array_equal(split.y_test, y_test) and split.y_test.dtype == np.int64
    subset = datasets.load_cifar10(n_train=10, n_test=5, seed=1)
    assert subset.x_train.shape == (10, 3, 32, 32) and subset.y_test.shape == (5,)
    with pytest.raises(ValueError, match="asked for 41"):
        datasets.load_cifar10(n_train=41)


def _write_batches(folder, rng) -> dict[str, np.ndarray]:
    folder.mkdir()
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(4, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, 4)]
        with (folder / name).open("wb") as handle:
            pickle.dump({b"data": data, b"labels": labels, b"batch_label": b"x"}, handle)
        written[name] = data
    return written


def test_full_tier_reads_the_python_batches_and_converts_them(monkeypatch, tmp_path):
    cache = tmp_path / "keras" / "datasets"
    cache.mkdir(parents=True)
    written = _write_batches(cache / "cifar-10-batches-py", np.random.default_rng(1))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert datasets.find_cifar10() == cache / "cifar-10-batches-py"
    split = datasets.load_cifar10(tier="full")
    assert split.x_train.shape == (20, 3, 32, 32) and split.x_test.shape == (4, 3, 32, 32)
    expected = written["data_batch_1"][0].reshape(3, 32, 32) / np.float32(255)
    assert np.allclose(split.x_train[0], expected)
    npz = datasets.convert_cifar10_to_npz(cache / "cifar-10-batches-py", tmp_path / "c.npz")
    with np.load(npz, allow_pickle=False) as arrays:
        assert arrays["x_train"].shape == (20, 3, 32, 32)


class _Planted:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_planted_pickle_is_refused(monkeypatch, tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _write_batches(folder, np.random.default_rng(2))
    with (folder / "data_batch_3").open("wb") as handle:
        pickle.dump({b"data": _Planted(), b"labels": [0]}, handle)
    monkeypatch.setenv("GRADER_DATA", str(tmp_path))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load builtins.print"):
        datasets.load_cifar10(tier="full")


def test_xor_and_regression_helpers():
    x, y = datasets.xor_data()
    assert x.dtype == y.dtype == np.float64
    assert x.shape == (4, 2) and y.shape == (4, 1)
    assert np.array_equal(y.ravel(), np.logical_xor(x[:, 0], x[:, 1]).astype(float))
    a_x, a_y = datasets.regression_data(8, 3, 2, seed=5)
    b_x, b_y = datasets.regression_data(8, 3, 2, seed=5)
    assert a_x.shape == (8, 3) and a_y.shape == (8, 2) and a_x.dtype == np.float64
    assert np.array_equal(a_x, b_x) and np.array_equal(a_y, b_y)
    assert a_y.min() > 0.05 and a_y.max() < 0.95
    assert not np.array_equal(a_x, datasets.regression_data(8, 3, 2, seed=6)[0])


def test_digits_are_scikit_learns_without_importing_it():
    """Read from scikit-learn's own data file: the same pixels and labels as its
    ``load_digits``, and a kernel that loads an offline dataset never imports sklearn."""
    from sklearn.datasets import load_digits as from_sklearn

    from grader.datasets.digits import load_digits

    images, labels = load_digits()
    reference = from_sklearn()
    assert images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images, reference.images)
    np.testing.assert_array_equal(labels, reference.target)
    code = (
        "import sys; from grader.datasets.digits import digit_sources; digit_sources(); "
        "print('sklearn' in sys.modules)"
    )
    seen = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert seen.stdout.strip() == "False"
