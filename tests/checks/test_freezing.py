"""The freezing checks on real Keras 3 models: each one passes a correct model and catches
the mistake it is for (a base that trains, a layer unfrozen without a new compile)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import freezing

CELLS = [
    """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
import keras
from keras import layers

rng = np.random.default_rng(0)
x = rng.uniform(0, 1, size=(32, 6)).astype("float32")
y = rng.integers(0, 3, size=32)

def make_model():
    keras.utils.set_random_seed(0)
    base = keras.Sequential(
        [keras.Input((6,)), layers.Dense(5, activation="relu", name="low"),
         layers.Dense(4, activation="relu", name="high")],
        name="base",
    )
    model = keras.Sequential([keras.Input((6,)), base, layers.Dense(3, name="out")])
    return base, model

def save_model(path):
    make_model()[1].save(path)

def compile_and_fit(model, epochs=2):
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=epochs, batch_size=8, verbose=0)
    return model

def unfreeze_high(base):
    base.trainable = True
    base.get_layer("low").trainable = False

def values():
    return tf.constant([1.5, 2.0]), tf.Variable([[1, 2]], dtype=tf.int32), np.arange(3)
"""
]

IN_BASE = freezing.path_contains("low/", "high/")
IN_HIGH, IN_LOW = freezing.path_contains("high/"), freezing.path_contains("low/")


def frozen_model(nb):
    base, model = nb.call("make_model")
    nb.method(base, "__setattr__", "trainable", False)
    return base, model


def test_snapshot_reads_every_weight_with_its_trainable_flag(nb):
    _base, model = frozen_model(nb)
    states = freezing.weight_snapshot(nb, model)
    layer_names = sorted(path.rsplit("/", 2)[-2] for path in states)
    assert layer_names == ["high", "high", "low", "low", "out", "out"]
    assert [s.trainable for p, s in states.items() if IN_BASE(p)] == [False] * 4
    assert all(s.trainable for p, s in states.items() if not IN_BASE(p))
    assert all(len(s.digest) == 64 for s in states.values())


def test_frozen_base_passes_and_a_training_base_is_caught(nb):
    _base, model = frozen_model(nb)
    before = freezing.weight_snapshot(nb, model)
    nb.call("compile_and_fit", model)
    after = freezing.weight_snapshot(nb, model)
    freezing.expect_unchanged(before, after, IN_BASE, what="the frozen base")
    freezing.expect_changed(before, after, lambda p: not IN_BASE(p), what="the head")
    with pytest.raises(AssertionError, match="the weights of the base did not change: .*low/"):
        freezing.expect_changed(before, after, IN_BASE, what="the base")

    _base, trained_base = nb.call("make_model")  # nothing frozen: the base trains too
    before = freezing.weight_snapshot(nb, trained_base)
    nb.call("compile_and_fit", trained_base)
    after = freezing.weight_snapshot(nb, trained_base)
    with pytest.raises(AssertionError, match=r"the weights of the frozen base changed: .*\(freeze"):
        freezing.expect_unchanged(before, after, IN_BASE, what="the frozen base", hint="freeze it")


def test_unfreezing_without_a_new_compile_is_caught(nb):
    base, model = frozen_model(nb)
    nb.call("compile_and_fit", model)
    nb.call("unfreeze_high", base)
    before = freezing.weight_snapshot(nb, model)
    nb.method(model, "fit", nb.get("x"), nb.get("y"), epochs=2, batch_size=8, verbose=0)
    after = freezing.weight_snapshot(nb, model)
    coverage = freezing.optimizer_coverage(nb, model)
    assert coverage.compiled and coverage.optimizer == "Adam"
    assert {p.rsplit("/", 2)[-2] for p, f in coverage.tracked.items() if not f} == {"high"}
    with pytest.raises(AssertionError, match="does not update .*high/kernel.*compile"):
        freezing.expect_optimizer_covers(coverage)
    with pytest.raises(AssertionError, match="did not change"):
        freezing.expect_changed(before, after, IN_HIGH, what="the unfrozen layer")

    nb.call("compile_and_fit", model)  # compiled again: now it trains
    again = freezing.weight_snapshot(nb, model)
    freezing.expect_optimizer_covers(freezing.optimizer_coverage(nb, model))
    freezing.expect_changed(after, again, IN_HIGH, what="the unfrozen layer")
    freezing.expect_unchanged(after, again, IN_LOW, what="the still frozen layer")


def test_uncompiled_and_unbuilt_optimizers_fail_with_a_reason(nb):
    _base, model = frozen_model(nb)
    with pytest.raises(AssertionError, match="not compiled"):
        freezing.expect_optimizer_covers(freezing.optimizer_coverage(nb, model))
    nb.method(model, "compile", optimizer="adam", loss="mse")
    with pytest.raises(AssertionError, match="has not been built"):
        freezing.expect_optimizer_covers(freezing.optimizer_coverage(nb, model))


def test_tf_values_reports_kinds_and_dtypes(nb):
    described = nb.probe("keras.tf_values", value=nb.new("values"))
    assert [(d["kind"], d["dtype"]) for d in described] == [
        ("tf.Tensor", "float32"),
        ("tf.Variable", "int32"),
        ("numpy.ndarray", "int64"),
    ]
    assert np.array_equal(described[1]["value"], [[1, 2]])
    single = nb.probe("keras.tf_values", value=nb.new("make_model"))
    assert [d["kind"] for d in single] == ["Sequential", "Sequential"]
    assert all(d["value"] is None for d in single)


def test_tf_function_hands_out_the_graders_own_functions(nb):
    cubic = nb.probe("keras.tf_function", name="cubic")
    value = nb.probe("keras.tf_values", value=nb.call_keep(cubic, 2.0))
    assert float(value["value"]) == 3 * 8 + 4 * 4
    sine = nb.probe("keras.tf_function", name="sin")
    value = nb.probe("keras.tf_values", value=nb.call_keep(sine, np.float32(0.5)))
    assert value["kind"] == "tf.Tensor" and abs(float(value["value"]) - np.sin(0.5)) < 1e-6
    with pytest.raises(Exception, match="no function 'cos'"):
        nb.probe("keras.tf_function", name="cos")


def test_tf_variable_and_load_model_need_no_notebook_imports(nb):
    variable = nb.probe("keras.tf_variable", value=np.array([[1, 2]], np.int32))
    described = nb.probe("keras.tf_values", value=variable)
    assert (described["kind"], described["dtype"]) == ("tf.Variable", "int32")
    path = "saved_by_the_test.keras"  # in the kernel's own folder
    nb.call("save_model", path)
    loaded = nb.probe("keras.load_model", path=path)
    total = nb.probe("keras.param_counts", model=loaded)["total"]
    assert total == (6 * 5 + 5) + (5 * 4 + 4) + (4 * 3 + 3)
