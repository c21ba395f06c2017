"""What is particular to the `transfer` lab.

The checks every assignment gets are in test_assignments_content.py. Here: the shipped
base (assignments/transfer/data/) is what pretrain.py describes (architecture, 4,800
parameters, the digests in base.json, well under 1 MB); the parameter counts the tests
assert hold for the solution's own functions; the hidden tests' reference catches the
relabelling mistake; and, marked slow, pretrain.py rebuilds an equivalent base.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from course_files import ROOT, folder, load_test_module

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DATA = folder("transfer") / "data"
SOLUTION = ROOT / "solutions" / "transfer.ipynb"


def pretrain_module():
    path = folder("transfer") / "pretrain.py"
    spec = importlib.util.spec_from_file_location("_transfer_pretrain", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def keras(tensorflow):
    import keras

    return keras


@pytest.fixture(scope="module")
def shipped(keras):
    return keras.models.load_model(DATA / "base.keras")


def solution_functions(keras) -> dict:
    """The solution's function definitions, run here without a kernel."""
    namespace: dict = {"keras": keras, "layers": keras.layers, "np": np}
    namespace["BASE_NAME"] = "digits_base"
    for cell in nbformat.read(SOLUTION, as_version=4).cells:
        if cell.cell_type == "code" and cell.source.startswith("def "):
            exec(cell.source, namespace)  # noqa: S102 - our own reference notebook
    return namespace


def counts(model) -> tuple[int, int, int]:
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return model.count_params(), trainable, frozen


# -- the shipped base -----------------------------------------------------------------------


def test_shipped_base_is_what_pretrain_describes(shipped):
    pretrain = pretrain_module()
    report = json.loads((DATA / "base.json").read_text(encoding="utf-8"))
    described = pretrain.describe_base(shipped)
    assert shipped.name == pretrain.BASE_NAME == report["base_name"]
    assert described == report["architecture"]
    assert [
        (row["name"], row["kind"], tuple(row["output_shape"]), row["params"]) for row in described
    ] == pretrain.ARCHITECTURE
    assert shipped.count_params() == pretrain.BASE_PARAMS == report["params"] == 4_800
    # 003's MNIST network: "Non trainable parameters = convolution layer parameters = 160 + 4640"
    assert [row["params"] for row in described if row["params"]] == [160, 4_640]


def test_shipped_weights_match_the_report_and_are_small(shipped):
    pretrain = pretrain_module()
    report = json.loads((DATA / "base.json").read_text(encoding="utf-8"))
    assert pretrain.weight_digests(shipped) == report["weights"]
    size = (DATA / "base.keras").stat().st_size
    assert size == report["file_bytes"] and size < 100_000, size
    assert report["pretraining"]["digits"] == [0, 1, 2, 3, 4]
    assert report["pretraining"]["test_accuracy"] >= 0.95


def test_hidden_tests_read_the_same_digests():
    training = load_test_module("transfer", "hidden/test_training.py")
    assert training.SHIPPED.resolve() == (DATA / "base.json").resolve()
    shipped = json.loads(training.SHIPPED.read_text(encoding="utf-8"))["weights"]
    assert sorted(shipped) == ["conv1/bias", "conv1/kernel", "conv2/bias", "conv2/kernel"]


# -- the counts asserted in the tests hold for the solution --------------------------------


def test_asserted_counts_hold_for_the_solution(keras):
    public = load_test_module("transfer", "public/test_transfer_basics.py")
    model_tests = load_test_module("transfer", "hidden/test_model.py")
    training = load_test_module("transfer", "hidden/test_training.py")
    functions = solution_functions(keras)

    lab = functions["build_transfer_model"](keras.models.load_model(DATA / "base.keras"), 5)
    assert counts(lab) == (public.LAB_MODEL_PARAMS, 51_589, 4_800) == (56_389, 51_589, 4_800)

    base = keras.models.load_model(DATA / "base.keras")
    three = functions["build_transfer_model"](base, 3)
    asserted = (model_tests.TOTAL, model_tests.TRAINABLE, model_tests.NON_TRAINABLE)
    assert counts(three) == asserted == (56_259, 51_459, 4_800)
    before = [w.copy() for w in base.get_layer("conv1").get_weights()]
    x = np.zeros((4, 28, 28, 1), np.float32)
    functions["fine_tune"](three, x, np.array([0, 1, 2, 0]), 1, 4, 1e-4)
    asserted = (training.FINE_TUNED_TRAINABLE, training.FINE_TUNED_FROZEN)
    assert counts(three)[1:] == asserted == (56_099, 160)
    after = base.get_layer("conv1").get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    # The near misses name real mistakes: 10 outputs give 003's total of 56,714.
    ten = functions["build_transfer_model"](keras.models.load_model(DATA / "base.keras"), 10)
    assert ten.count_params() in public.NEAR_MISSES


def test_solution_text_states_the_asserted_counts():
    text = "\n".join(c.source for c in nbformat.read(SOLUTION, as_version=4).cells)
    for number in ("4,800", "51,264", "56,389", "51,589", "56,229", "160"):
        assert number in text, number


# -- the hidden tests' reference catches the mistake it is for ------------------------------


def test_relabel_reference_catches_subtracting_the_first_digit():
    data = load_test_module("transfer", "hidden/test_data.py")
    x, y = data.fresh_arrays(1)
    _, labels = data.reference_relabel(x, y, (7, 2, 9), 3)
    # Only two 7s in these arrays: a group keeps what there is, up to per_class.
    assert labels.tolist() == [0, 0, 1, 1, 1, 2, 2, 2]
    order = np.concatenate([np.flatnonzero(y == d)[:3] for d in (7, 2, 9)])
    assert not np.array_equal(y[order] - 7, labels)  # dan's `y - digits[0]`
    _, lab = data.reference_relabel(x, y, (5, 6, 7, 8, 9))
    lab_order = np.concatenate([np.flatnonzero(y == d) for d in (5, 6, 7, 8, 9)])
    assert np.array_equal(y[lab_order] - 5, lab)  # ...which is right for the lab's digits


# -- slow: the script rebuilds the base ----------------------------------------------------


@pytest.mark.slow
def test_pretrain_script_rebuilds_an_equivalent_base(tmp_path: Path, keras):
    # Run as the course author runs it: its own process sets TensorFlow's threads and op
    # determinism, which must not leak into the other tests of this process.
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "assignments" / "transfer" / "pretrain.py"),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "base.json").read_text(encoding="utf-8"))
    shipped = json.loads((DATA / "base.json").read_text(encoding="utf-8"))
    assert report["architecture"] == shipped["architecture"]
    assert report["params"] == shipped["params"]
    assert report["file_bytes"] < 100_000
    # Same seeds, one thread, op determinism: the same accuracy to the digit on this
    # machine (and the same digests here; another CPU may round differently).
    accuracy, shipped_accuracy = (r["pretraining"]["test_accuracy"] for r in (report, shipped))
    assert abs(accuracy - shipped_accuracy) < 0.02
