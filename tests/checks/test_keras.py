"""The same checks on Keras 3 models: Sequential, functional and subclassed."""

from __future__ import annotations

import numpy as np
import pytest

from grader.bridge import StudentError
from grader.checks import (
    accuracy,
    expect_accuracy_at_least,
    expect_layer_param_counts,
    expect_layer_shapes,
    expect_loss_decrease,
    expect_output_shapes,
    expect_param_count,
    expect_same_draws,
    expect_trainable_counts,
    layer_param_counts,
    layer_shapes,
    output_shapes,
    param_counts,
    seed_everything,
    seeded_fingerprints,
    train_losses,
)

CELLS = [
    """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import keras
from keras import layers

def mlp(hidden=(256, 128, 64), batch_norm=False):
    stack = [keras.Input((784,))]
    for units in hidden:
        stack.append(layers.Dense(units, activation="relu"))
        if batch_norm:
            stack.append(layers.BatchNormalization())
    stack.append(layers.Dense(10))
    return keras.Sequential(stack)

def cnn(pool_after_second=True):
    stack = [
        keras.Input((32, 32, 3)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
    ]
    if pool_after_second:
        stack.append(layers.MaxPooling2D())
    stack += [layers.Conv2D(128, 3, activation="relu"), layers.Flatten(),
              layers.Dense(128, activation="relu"), layers.Dense(10)]
    return keras.Sequential(stack)

inputs = keras.Input((8,))
hidden = layers.Dense(4, name="hidden")(inputs)
heads = [layers.Dense(2)(hidden), layers.Dense(3)(hidden)]
functional = keras.Model(inputs, layers.Concatenate()(heads))

class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.d1 = layers.Dense(5, activation="relu")
        self.d2 = layers.Dense(3)

    def call(self, x, training=False):
        return self.d2(self.d1(x))

def small_classifier(trainable=True):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), layers.Dense(16, activation="relu"), layers.Dense(3)]
    )
    model.trainable = trainable
    return model

def argmax_model(reverse=False):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(4, use_bias=False)])
    model.layers[0].set_weights([-np.eye(4) if reverse else np.eye(4)])
    return model
"""
]

CNN_SHAPES = [
    (30, 30, 32),
    (15, 15, 32),
    (13, 13, 64),
    (6, 6, 64),
    (4, 4, 128),
    (2048,),
    (128,),
    (10,),
]


def test_counts_match_count_params_and_name_both_numbers(nb):
    model = nb.call("mlp")
    counts = param_counts(nb, model)
    assert counts.total == nb.method(model, "count_params") == 242_762
    expect_param_count(counts, 242_762)
    wrong = param_counts(nb, nb.call("mlp", (300, 100)), framework="keras")
    assert wrong.total == 266_610
    with pytest.raises(AssertionError, match="^266,610 parameters, expected 242,762"):
        expect_param_count(wrong, 242_762, {266_610: "the 784-300-100-10 network"})


def test_batch_norm_statistics_are_non_trainable(nb):
    counts = param_counts(nb, nb.call("mlp", (300, 100), True))
    assert (counts.total, counts.trainable, counts.non_trainable) == (268_210, 267_410, 800)
    expect_trainable_counts(counts, trainable=267_410, non_trainable=800)
    with pytest.raises(AssertionError, match="800 non-trainable parameters, expected 0"):
        expect_trainable_counts(counts, non_trainable=0)


def test_cnn_per_layer_counts_and_shapes(nb):
    model = nb.call("cnn")
    per_layer = layer_param_counts(nb, model)
    expect_layer_param_counts(per_layer, [896, 18_496, 73_856, 262_272, 1_290])
    expect_param_count(param_counts(nb, model), 356_810)
    layers = layer_shapes(nb, model, (2, 32, 32, 3))
    assert layers[0].kind == "Conv2D" and layers[0].output_shape == (2, 30, 30, 32)
    expect_layer_shapes(layers, CNN_SHAPES)
    shapes = output_shapes(nb, model, [(1, 32, 32, 3), (5, 32, 32, 3)])
    expect_output_shapes(shapes, lambda s: (s[0], 10))


def test_cnn_without_a_pooling_layer_is_caught(nb):
    model = nb.call("cnn", False)
    layers = layer_shapes(nb, model, (2, 32, 32, 3))
    with pytest.raises(AssertionError, match=r"^no layer outputs shape \(6, 6, 64\) after"):
        expect_layer_shapes(layers, CNN_SHAPES)
    with pytest.raises(AssertionError, match="parameters, expected 356,810"):
        expect_param_count(param_counts(nb, model), 356_810)


def test_functional_and_subclassed_models(nb):
    layers = layer_shapes(nb, "functional", (2, 8))
    assert [(layer.name, layer.output_shape) for layer in layers][0] == ("hidden", (2, 4))
    expect_layer_shapes(layers, [(4,), (5,)])
    with pytest.raises(StudentError, match="not built yet"):
        param_counts(nb, nb.new("Subclassed"))
    model = nb.new("Subclassed")
    assert param_counts(nb, model, input_shape=(1, 8)).total == 8 * 5 + 5 + 5 * 3 + 3
    sub_layers = layer_shapes(nb, model, (2, 8))
    assert [layer.output_shape for layer in sub_layers] == [(2, 5), (2, 3)]
    wrong = output_shapes(nb, model, [(4, 8)])
    with pytest.raises(AssertionError, match=r"output has shape \(4, 3\), expected \(4, 10\)"):
        expect_output_shapes(wrong, {(4, 8): (4, 10)})


def blobs(n: int = 96) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    x = np.eye(3, 4, dtype=np.float32)[y] * 3 + rng.normal(scale=0.5, size=(n, 4))
    return x.astype(np.float32), y


def test_training_decreases_the_loss_unless_the_model_is_frozen(nb):
    x, y = blobs()
    losses = train_losses(
        nb, nb.call("small_classifier"), x, y, steps=10, optimizer="adam", lr=0.05
    )
    expect_loss_decrease(losses, min_relative_drop=0.2)
    frozen = train_losses(nb, nb.call("small_classifier", False), x, y, steps=6, optimizer="adam")
    with pytest.raises(AssertionError, match="did not decrease"):
        expect_loss_decrease(frozen)


def test_accuracy_from_keras_predictions(nb):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 4)).astype(np.float32)
    labels = x.argmax(axis=1)
    assert accuracy(nb, nb.call("argmax_model"), x, labels, batch_size=64) == 1.0
    wrong = accuracy(nb, nb.call("argmax_model", True), x, labels)
    with pytest.raises(AssertionError, match="expected at least 0.9"):
        expect_accuracy_at_least(wrong, 0.9)


def test_seeding_covers_tensorflow(nb):
    assert {"random", "numpy", "tensorflow"} <= set(seed_everything(nb, 1))
    first, second = seeded_fingerprints(nb, seed=7)
    assert "tensorflow" in first
    expect_same_draws(first, second)
