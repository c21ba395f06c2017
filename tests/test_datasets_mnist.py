"""grader.datasets: MNIST in both tiers, and the image-folder tree of the GPU lab.

The full-tier readers are exercised on small fake caches in Keras's ``mnist.npz`` layout
and torchvision's idx files, built in a temporary folder.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from grader import datasets

pytestmark = pytest.mark.usefixtures("no_real_caches")


def test_offline_mnist_has_mnists_shape_and_a_dark_background():
    split = datasets.load_mnist(n_train=400, n_test=100, seed=0, tier="offline")
    assert split.x_train.shape == (400, 28, 28) and split.x_test.shape == (100, 28, 28)
    assert split.x_train.dtype == np.float32 and split.y_train.dtype == np.int64
    assert 0.0 <= split.x_train.min() and split.x_train.max() <= 1.0
    assert set(np.unique(split.y_train)) == set(range(10))
    border = np.concatenate([split.x_train[:, :2].ravel(), split.x_train[:, -2:].ravel()])
    assert np.mean(border == 0) > 0.95, "digits sit near the centre, as in MNIST"
    assert np.mean(split.x_train == 0) > 0.5


def test_offline_mnist_is_deterministic_and_its_test_part_ignores_n_train():
    first = datasets.load_mnist(n_train=50, n_test=30, seed=4, tier="offline")
    again = datasets.load_mnist(n_train=50, n_test=30, seed=4, tier="offline")
    bigger = datasets.load_mnist(n_train=300, n_test=30, seed=4, tier="offline")
    other = datasets.load_mnist(n_train=50, n_test=30, seed=5, tier="offline")
    assert np.array_equal(first.x_train, again.x_train)
    assert np.array_equal(first.x_test, bigger.x_test)
    assert not np.array_equal(first.x_train, other.x_train)
    defaults = datasets.load_mnist(seed=1, tier="offline")
    assert (len(defaults.x_train), len(defaults.x_test)) == datasets.MNIST_OFFLINE_SIZES


def test_mnist_tier_follows_the_cache_and_says_how_to_provide_it(tmp_path, monkeypatch):
    assert datasets.tier("mnist") == "offline"
    assert "mnist: offline tier" in datasets.describe()
    with pytest.raises(FileNotFoundError, match="mnist.npz"):
        datasets.load_mnist(n_train=1, tier="full")
    with pytest.raises(ValueError, match="n_test"):
        datasets.load_mnist(n_test=-3, tier="offline")


def test_full_tier_reads_keras_mnist_npz(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (8, 28, 28), dtype=np.uint8)
    y_train, y_test = rng.integers(0, 10, 30, dtype=np.uint8), rng.integers(0, 10, 8)
    np.savez(tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    monkeypatch.setenv("GRADER_DATA", str(tmp_path))
    assert datasets.tier("mnist") == "full"
    split = datasets.load_mnist()
    assert split.x_train.shape == (30, 28, 28) and split.x_train.dtype == np.float32
    assert np.allclose(split.x_train[3], x_train[3] / 255.0)
    assert np.array_equal(split.y_train, y_train) and split.y_train.dtype == np.int64
    assert datasets.load_mnist(n_train=10, n_test=4, seed=2).x_test.shape == (4, 28, 28)


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def test_full_tier_reads_torchvision_idx_files_plain_or_gzipped(tmp_path, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 12, dtype=np.uint8)
    (raw / "train-images-idx3-ubyte").write_bytes(_idx(images))
    (raw / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(labels)))
    (raw / "t10k-images-idx3-ubyte").write_bytes(_idx(images[:5]))
    (raw / "t10k-labels-idx1-ubyte").write_bytes(_idx(labels[:5]))
    monkeypatch.setenv("GRADER_DATA", str(tmp_path))
    assert datasets.find_mnist() == raw
    split = datasets.load_mnist(tier="full")
    assert np.allclose(split.x_train, images / 255.0)
    assert np.array_equal(split.y_train, labels) and split.x_test.shape == (5, 28, 28)
    (raw / "t10k-images-idx3-ubyte").write_bytes(_idx(images[:5])[:-10])
    with pytest.raises(ValueError, match="header says"):
        datasets.load_mnist(tier="full")


def test_image_folder_round_trips_two_classes(tmp_path):
    root = datasets.write_image_folder(tmp_path / "data", n_train=40, n_test=10, seed=3)
    assert sorted(p.name for p in (root / "train").iterdir()) == ["eight", "three"]
    x, y, names = datasets.read_image_folder(root / "train")
    assert x.shape == (40, 3, 32, 32) and x.dtype == np.float32 and names == ["eight", "three"]
    assert 0 < y.mean() < 1
    x_test, _, _ = datasets.read_image_folder(root / "test")
    assert x_test.shape == (10, 3, 32, 32)
    again = datasets.write_image_folder(tmp_path / "again", n_train=40, n_test=10, seed=3)
    assert np.array_equal(datasets.read_image_folder(again / "train")[0], x)
    (tmp_path / "empty" / "cats").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no .png images"):
        datasets.read_image_folder(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="no class folders"):
        datasets.read_image_folder(tmp_path / "empty" / "cats")


def test_image_folder_sample_is_standardised_seeded_and_read_only():
    images, labels = datasets.image_folder_sample(30, seed=5)
    again, _ = datasets.image_folder_sample(30, seed=5, shuffle=False)
    assert images.shape == (30, 3, 32, 32) and images.dtype == np.float32
    assert np.allclose(images.mean(axis=(2, 3)), 0, atol=1e-4)
    assert sorted(map(bytes, images)) == sorted(map(bytes, again)), "same images, other order"
    assert set(labels.tolist()) <= {0, 1} and not images.flags.writeable


def test_image_folder_sample_can_stay_as_read():
    # For a notebook's own preprocess(x): the same images, in [0, 1], before standardising.
    raw, labels = datasets.image_folder_sample(30, seed=5, standardize=False)
    images, same_labels = datasets.image_folder_sample(30, seed=5)
    assert raw.dtype == np.float32 and 0.0 <= raw.min() and raw.max() <= 1.0
    assert np.array_equal(labels, same_labels) and not raw.flags.writeable
    assert np.allclose(datasets.standardize_images(raw), images)


def test_signed_vectors_flatten_and_scale_to_the_range_of_tanh():
    split = datasets.load_mnist(n_train=20, n_test=0, seed=0, tier="offline")
    vectors = datasets.signed_vectors(split.x_train)
    assert vectors.shape == (20, 784) and vectors.dtype == np.float32
    assert vectors.min() == -1.0 and vectors.max() <= 1.0
    assert np.array_equal(vectors, split.x_train.reshape(20, 784) * 2 - 1)
    assert np.mean(vectors == -1.0) > 0.5, "the dark background becomes -1"
    with pytest.raises(ValueError, match="batch of images"):
        datasets.signed_vectors(np.zeros(784))
