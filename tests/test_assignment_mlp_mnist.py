"""What is particular to the `mlp_mnist` lab.

The checks every assignment gets are in test_assignments_content.py. Here: the
curriculum's parameter counts are what the hidden tests assert, and the solution's builder
gives them; and, in one real kernel holding the solution's functions next to typical
mistakes, each hidden test catches the mistake it is meant to (a forgotten momentum, a
hard-coded learning rate, pixels divided by 255 twice, a column-by-column flatten, batch
normalisation on the inputs, a validation accuracy reported as the test's, a plot without
the accuracy, a model at chance on digits as the lab gives them while the notebook reports
0.95) while the solution's functions pass.
"""

from __future__ import annotations

from collections.abc import Iterator

import nbformat
import numpy as np
import pytest
from course_files import ROOT, load_test_module, mistaken, rubric

from grader.testing.live import live_notebook

SOLUTION = ROOT / "solutions" / "mlp_mnist.ipynb"


def dense_params(widths: tuple[int, ...]) -> int:
    return sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))


def solution_cell(marker: str) -> str:
    """The source of the solution's code cell that contains ``marker``, markers removed."""
    for cell in nbformat.read(SOLUTION, as_version=4).cells:
        if cell.cell_type == "code" and marker in cell.source:
            return "\n".join(
                line
                for line in cell.source.splitlines()
                if "### " not in line or "SOLUTION" not in line
            )
    raise LookupError(marker)


# -- fast: the numbers ----------------------------------------------------------------------


def test_hidden_tests_assert_the_curriculum_counts():
    public = load_test_module("mlp_mnist", "public/test_mlp_basics.py")
    model = load_test_module("mlp_mnist", "hidden/test_model.py")
    assert public.MLP_PARAMS == 242_762 == dense_params((784, 256, 128, 64, 10))
    assert sum(model.LAYER_PARAMS) == 242_762
    assert model.VARIANTS[((300, 100), False)] == (266_610, 0)
    assert model.VARIANTS[((300, 100), True)] == (268_210, 800)
    for (hidden, norm), (total, frozen) in model.VARIANTS.items():
        extra, extra_frozen = model.batch_norm_params(hidden) if norm else (0, 0)
        assert (dense_params((784, *hidden, 10)) + extra, extra_frozen) == (total, frozen)
    # Each named near miss is the count of the network its message describes.
    assert set(public.NEAR_MISSES) == {
        dense_params((784, 256, 128, 10)),
        dense_params((784, 128, 64, 10)),
        dense_params((3072, 256, 128, 64, 10)),
        dense_params((784, 256, 128, 64, 10)) - (256 + 128 + 64 + 10),
    }
    assert set(model.BATCH_NORM_NEAR_MISSES) == {268_210 + 4 * 784, 268_210 + 4 * 10}


def test_solution_builds_the_curriculum_networks():
    import keras
    from keras import layers

    namespace = {"keras": keras, "layers": layers}
    exec(solution_cell("def build_mlp"), namespace)  # noqa: S102 - our own reference notebook
    build_mlp = namespace["build_mlp"]

    def frozen(model) -> int:
        return sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)

    assert build_mlp().count_params() == 242_762
    assert build_mlp((300, 100)).count_params() == 266_610
    normalised = build_mlp((300, 100), batch_norm=True)
    assert (normalised.count_params(), frozen(normalised)) == (268_210, 800)


def test_pass_mark_is_the_rubrics_full_credit_band():
    results = load_test_module("mlp_mnist", "hidden/test_results.py")
    accuracy = next(c for c in rubric("mlp_mnist").criteria if c.id == "accuracy")
    assert {tier: bands[0].at_least for tier, bands in accuracy.bands.items()} == (
        results.PASS_MARK
    )


# -- slow: the hidden tests against typical mistakes, in a real kernel --------------------

MISTAKES = '''
_prepare, _build, _compile = prepare_data, build_mlp, compile_model  # the solution's

def prepare_twice_scaled(images, labels, n_classes=10):
    x, y = _prepare(images, labels, n_classes)
    return x / 255.0, y

def prepare_by_column(images, labels, n_classes=10):
    x, y = _prepare(images, labels, n_classes)
    return np.ascontiguousarray(images.transpose(0, 2, 1).reshape(len(images), 784)), y

def build_norm_inputs_too(hidden_sizes=(256, 128, 64), batch_norm=False, n_inputs=784,
                          n_classes=10):
    model = _build(hidden_sizes, batch_norm, n_inputs, n_classes)
    if not batch_norm:
        return model
    return keras.Sequential([keras.Input((n_inputs,)), layers.BatchNormalization(),
                             *model.layers])

def compile_plain_sgd(model, learning_rate=0.01, momentum=0.9):
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return model

def compile_fixed_values(model, learning_rate=0.01, momentum=0.9):
    return _compile(model)

def compile_logits_loss(model, learning_rate=0.01, momentum=0.9):
    model.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=momentum),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model

_saved = {}

def rebind(**names):
    """Point each global at another global's object (the grader names both)."""
    for target, source in names.items():
        _saved.setdefault(target, globals()[target])
        globals()[target] = globals()[source]

def restore():
    globals().update(_saved)
    _saved.clear()
'''

TRAINING = """
SEED, EPOCHS, N_TEST = 0, 3, 200
keras.utils.set_random_seed(SEED)
data = load_mnist(n_train=600, n_test=N_TEST, seed=SEED)
x_train, y_train = prepare_data(data.x_train, data.y_train)
x_test, y_test = prepare_data(data.x_test, data.y_test)
model = compile_model(build_mlp())
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, validation_split=0.2,
                    verbose=0)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
validation_accuracy = history.history["val_accuracy"][-1]
# A model at chance on digits as the lab gives them, and what a notebook that prepared its
# own split another way would report for it.
untrained_model = compile_model(build_mlp())
own_preparation_accuracy = 0.95
fig, (left, right) = plt.subplots(1, 2)
left.plot(history.history["loss"]); left.set_ylabel("loss")
right.plot(history.history["accuracy"]); right.set_ylabel("accuracy")
loss_only = plt.figure()
plt.plot(history.history["loss"]); plt.plot(history.history["val_loss"]); plt.ylabel("loss")
plt.close("all")
"""


@pytest.fixture(scope="module")
def nb() -> Iterator:
    cells = [
        solution_cell("import tensorflow as tf").split("keras.utils.set_random_seed")[0],
        solution_cell("def prepare_data").split("x_train, y_train")[0],
        solution_cell("def build_mlp"),
        solution_cell("def compile_model"),
        MISTAKES,
        TRAINING,
    ]
    with live_notebook(["SEED = 0", *cells], context={"tier": "offline"}) as (notebook, run):
        assert not run.execution.errors, run.execution.errors[0]
        yield notebook


@pytest.mark.slow
def test_solution_functions_pass_the_hidden_tests(nb):
    data = load_test_module("mlp_mnist", "hidden/test_data.py")
    model = load_test_module("mlp_mnist", "hidden/test_model.py")
    training = load_test_module("mlp_mnist", "hidden/test_training.py")
    results = load_test_module("mlp_mnist", "hidden/test_results.py")
    plot = load_test_module("mlp_mnist", "hidden/test_plot.py")
    data.test_prepare_data(nb)
    model.test_layer_structure(nb)
    model.test_builder_variants(nb)
    training.test_compile_model(nb)
    training.test_training_history(nb)
    results.test_reported_accuracy(nb)
    plot.test_training_curves(nb)
    load_test_module("mlp_mnist", "public/test_mlp_basics.py").test_input_preparation(nb)


@pytest.mark.slow
@pytest.mark.parametrize(
    "names, module, test, message",
    [
        (
            {"prepare_data": "prepare_twice_scaled"},
            "hidden/test_data.py",
            "test_prepare_data",
            "by 255",
        ),
        (
            {"prepare_data": "prepare_by_column"},
            "hidden/test_data.py",
            "test_prepare_data",
            "column by",
        ),
        (
            {"compile_model": "compile_plain_sgd"},
            "hidden/test_training.py",
            "test_compile_model",
            "used momentum 0, expected 0.9",
        ),
        (
            {"compile_model": "compile_fixed_values"},
            "hidden/test_training.py",
            "test_compile_model",
            "used learning rate 0.01, expected 0.05",
        ),
        (
            {"compile_model": "compile_logits_loss"},
            "hidden/test_training.py",
            "test_compile_model",
            "from_logits=True",
        ),
        (
            {"test_accuracy": "validation_accuracy"},
            "hidden/test_results.py",
            "test_reported_accuracy",
            "last epoch's validation accuracy",
        ),
        ({"fig": "loss_only"}, "hidden/test_plot.py", "test_training_curves", "training accuracy"),
        (
            {"model": "untrained_model", "test_accuracy": "own_preparation_accuracy"},
            "public/test_mlp_basics.py",
            "test_input_preparation",
            "0.95 on your test split, .* prepared your way",
        ),
    ],
)
def test_hidden_tests_catch_typical_mistakes(nb, names, module, test, message):
    tests = load_test_module("mlp_mnist", module)
    with mistaken(nb, **names), pytest.raises(AssertionError, match=message):
        getattr(tests, test)(nb)


@pytest.mark.slow
def test_batch_norm_on_the_inputs_is_named(nb):
    tests = load_test_module("mlp_mnist", "hidden/test_model.py")
    with mistaken(nb, build_mlp="build_norm_inputs_too"):
        with pytest.raises(AssertionError, match="BatchNormalization on the 784 inputs"):
            tests.test_builder_variants(nb)
