"""What is particular to the `cnn_cifar` lab.

The checks every assignment gets are in test_assignments_content.py. Here: the
curriculum's counts and shapes are what the hidden tests assert, and the solution's network
has them; and, in one real kernel holding the solution's functions next to typical
mistakes, each hidden test catches the mistake it is meant to (a reshape instead of a
transpose, padding="same", SGD instead of Adam, a history shorter than EPOCHS, a
transposed confusion matrix or a validation accuracy in the report) while the solution
passes. The metric functions' own mistakes are covered by tests/checks/test_classification.py
and the examples.
"""

from __future__ import annotations

from collections.abc import Iterator

import nbformat
import numpy as np
import pytest
from course_files import ROOT, load_test_module, mistaken, rubric

from grader.testing.live import live_notebook

SOLUTION = ROOT / "solutions" / "cnn_cifar.ipynb"


def conv_net_params(
    channels: int = 3, padding_same: bool = False, pools: tuple[int, ...] = (1, 1, 0)
) -> tuple[int, int]:
    """(total parameters, flattened size) of the manual's CNN with the given changes."""
    side, total = 32, 0
    for filters, pool in zip((32, 64, 128), pools, strict=True):
        total += 3 * 3 * channels * filters + filters
        channels = filters
        side = side if padding_same else side - 2
        side = side // 2 if pool else side
    flat = side * side * channels
    return total + flat * 128 + 128 + 128 * 10 + 10, flat


def solution_cell(marker: str) -> str:
    """The source of the solution's code cell that contains ``marker``, markers removed."""
    for cell in nbformat.read(SOLUTION, as_version=4).cells:
        if cell.cell_type == "code" and marker in cell.source:
            return "\n".join(
                line
                for line in cell.source.splitlines()
                if not line.lstrip().startswith("### ") or "SOLUTION" not in line
            )
    raise LookupError(marker)


# -- fast: the numbers ----------------------------------------------------------------------


def test_hidden_tests_assert_the_curriculum_counts():
    public = load_test_module("cnn_cifar", "public/test_cnn_basics.py")
    model = load_test_module("cnn_cifar", "hidden/test_model.py")
    assert conv_net_params() == (356_810, 2_048)
    assert public.CNN_PARAMS == sum(model.LAYER_PARAMS) == 356_810
    assert model.LAYER_PARAMS == [896, 18_496, 73_856, 262_272, 1_290]
    sides = [shape[0] for shape in model.LAYER_OUTPUTS[:5]]
    assert sides == [30, 15, 13, 6, 4] and model.LAYER_OUTPUTS[5] == (2_048,)
    tutorial_cnn = (3 * 3 * 3 * 32 + 32) + (3 * 3 * 32 * 64 + 64) + (3 * 3 * 64 * 64 + 64)
    assert tutorial_cnn == 56_320  # seed 000's conv base; + dense 1024->64->10
    assert set(public.NEAR_MISSES) == {
        conv_net_params(padding_same=True)[0],
        conv_net_params(pools=(1, 0, 0))[0],
        conv_net_params(pools=(1, 1, 1))[0],
        conv_net_params(channels=1)[0],
        tutorial_cnn + 1_024 * 64 + 64 + 64 * 10 + 10,
    }


def test_solution_builds_the_curriculum_network():
    import keras
    from keras import layers

    namespace = {"keras": keras, "layers": layers}
    exec(solution_cell("def build_cnn").split("build_cnn().summary()")[0], namespace)  # noqa: S102
    model = namespace["build_cnn"]()
    assert model.count_params() == 356_810
    assert [layer.count_params() for layer in model.layers if layer.count_params()] == [
        896,
        18_496,
        73_856,
        262_272,
        1_290,
    ]


def test_pass_mark_is_the_rubrics_full_credit_band():
    results = load_test_module("cnn_cifar", "hidden/test_results.py")
    accuracy = next(c for c in rubric("cnn_cifar").criteria if c.id == "accuracy")
    assert {tier: bands[0].at_least for tier, bands in accuracy.bands.items()} == (
        results.PASS_MARK
    )


# -- slow: the hidden tests against typical mistakes, in a real kernel --------------------

MISTAKES = """
_to_channels_last, _build = to_channels_last, build_cnn  # the solution's

def channels_by_reshape(images):
    n, c, h, w = images.shape
    return images.reshape(n, h, w, c)

def build_same_padding(input_shape=(32, 32, 3), n_classes=10):
    model = keras.Sequential([keras.Input(input_shape)])
    for filters, pool in ((32, True), (64, True), (128, False)):
        model.add(layers.Conv2D(filters, 3, padding="same", activation="relu"))
        if pool:
            model.add(layers.MaxPooling2D())
    model.add(layers.Flatten())
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dense(n_classes, activation="softmax"))
    return model

_saved = {}

def rebind(**names):
    for target, source in names.items():
        _saved.setdefault(target, globals()[target])
        globals()[target] = globals()[source]

def restore():
    globals().update(_saved)
    _saved.clear()
"""

TRAINING = """
SEED, EPOCHS, N_TEST, LEARNING_RATE = 0, 2, 100, 0.001
keras.utils.set_random_seed(SEED)
data = load_cifar10(n_train=200, n_test=N_TEST, seed=SEED)
x_train, x_test = to_channels_last(data.x_train), to_channels_last(data.x_test)
y_train, y_test = data.y_train, data.y_test
model = build_cnn()
model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, validation_split=0.2,
                    verbose=0)
predicted = model.predict(x_test, verbose=0).argmax(axis=1)
test_accuracy = float(np.mean(predicted == y_test))
test_confusion = confusion_matrix(y_test, predicted, 10)
test_precision, test_recall = precision_recall(test_confusion)
swapped_confusion = confusion_matrix(predicted, y_test, 10)
validation_accuracy = history.history["val_accuracy"][-1] + 0.05
# What a notebook reports when it scaled its own split another way (say, pixels 0-255) and
# the model is at chance on images in [0, 1] (this short run is near chance anyway).
own_preparation_accuracy = test_accuracy + 0.6
sgd_model = build_cnn()
sgd_model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
MORE_EPOCHS = 5
"""


@pytest.fixture(scope="module")
def nb() -> Iterator:
    cells = [
        "SEED = 0",
        solution_cell("import tensorflow as tf").split("keras.utils.set_random_seed")[0],
        solution_cell("def to_channels_last").split("data = load_cifar10")[0],
        solution_cell("def build_cnn").split("build_cnn().summary()")[0],
        solution_cell("def confusion_matrix"),
        MISTAKES,
        TRAINING,
    ]
    with live_notebook(cells, context={"tier": "offline"}) as (notebook, run):
        assert not run.execution.errors, run.execution.errors[0]
        yield notebook


@pytest.mark.slow
def test_solution_functions_pass_the_hidden_tests(nb):
    public = load_test_module("cnn_cifar", "public/test_cnn_basics.py")
    model = load_test_module("cnn_cifar", "hidden/test_model.py")
    data = load_test_module("cnn_cifar", "hidden/test_data.py")
    metrics = load_test_module("cnn_cifar", "hidden/test_metrics.py")
    training = load_test_module("cnn_cifar", "hidden/test_training.py")
    results = load_test_module("cnn_cifar", "hidden/test_results.py")
    public.test_parameter_count(nb)
    model.test_layer_shapes(nb)
    data.test_channels_last(nb)
    metrics.test_confusion_matrix(nb)
    metrics.test_precision_recall(nb)
    training.test_training_run(nb)
    results.test_performance_report(nb)
    public.test_input_preparation(nb)


@pytest.mark.slow
@pytest.mark.parametrize(
    "names, module, test, message",
    [
        (
            {"to_channels_last": "channels_by_reshape"},
            "hidden/test_data.py",
            "test_channels_last",
            "reshapes instead of transposing",
        ),
        (
            {"build_cnn": "build_same_padding"},
            "public/test_cnn_basics.py",
            "test_parameter_count",
            'padding="same"',
        ),
        (
            {"build_cnn": "build_same_padding"},
            "hidden/test_model.py",
            "test_layer_shapes",
            r"no layer outputs shape \(30, 30, 32\)",
        ),
        ({"model": "sgd_model"}, "hidden/test_training.py", "test_training_run", "SGD"),
        (
            {"EPOCHS": "MORE_EPOCHS"},
            "hidden/test_training.py",
            "test_training_run",
            "has 2 values, one per epoch of 5",
        ),
        (
            {"test_confusion": "swapped_confusion"},
            "hidden/test_results.py",
            "test_performance_report",
            "is transposed",
        ),
        (
            {"test_accuracy": "validation_accuracy"},
            "hidden/test_results.py",
            "test_performance_report",
            "test_accuracy is",
        ),
        (
            {"test_accuracy": "own_preparation_accuracy"},
            "public/test_cnn_basics.py",
            "test_input_preparation",
            "on your test split, .* prepared your way",
        ),
    ],
)
def test_hidden_tests_catch_typical_mistakes(nb, names, module, test, message):
    tests = load_test_module("cnn_cifar", module)
    with mistaken(nb, **names), pytest.raises(AssertionError, match=message):
        getattr(tests, test)(nb)


def test_report_inputs_are_channels_last():
    results = load_test_module("cnn_cifar", "hidden/test_results.py")
    x, labels = results.channels_last_test_set("offline", 0, 50)
    assert x.shape == (50, 32, 32, 3) and labels.shape == (50,) and x.dtype == np.float32
