"""What ``grader new`` writes for each framework: small, correct, and easy to replace.

Each template is a lab that validates as written: a solution whose marked code gets full
marks, one public and one hidden test file using the ``nb`` fixture and
:mod:`grader.checks`, and criteria whose points add up. ``{name}`` is the assignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FrameworkChoice = Literal["numpy", "torch", "keras"]
#: ``--framework`` to assignment.yaml's ``framework``.
CONFIG_FRAMEWORK = {"numpy": "numpy", "torch": "pytorch", "keras": "keras"}

AUTHOR_NEXT = (
    "    # Next step (course author): replace this example with your lab's code, keeping\n"
    "    # the markers; then run `grader assign {name}` and `grader validate {name}`.\n"
)


@dataclass(frozen=True)
class Template:
    title: str
    parameters: str
    imports: str
    interface: str
    code: list[str]
    public_test: str
    hidden_test: str
    criteria: str


NUMPY = Template(
    title="A linear model in NumPy",
    parameters="SEED = 0\nN_SAMPLES = 32",
    imports="import numpy as np",
    interface=(
        "**The interface.** The grader calls these functions by name: keep their names and "
        "arguments.\n\n"
        "* `predict(X, w, b)`: `X` is an `(N, D)` float array, `w` a `(D,)` array and `b` a "
        "float; returns the `(N,)` predictions `X @ w + b`.\n"
        "* `mse(y_hat, y)`: the mean squared error of two `(N,)` arrays, as a float."
    ),
    code=[
        'def predict(X, w, b):\n    """One prediction per row of X."""\n'
        "    ### BEGIN SOLUTION: return X @ w + b, one value per row\n"
        + AUTHOR_NEXT
        + "    return X @ w + b\n    ### END SOLUTION",
        'def mse(y_hat, y):\n    """The mean of the squared errors, a float."""\n'
        "    ### BEGIN SOLUTION: return the mean of (y_hat - y) ** 2 as a float\n"
        "    return float(np.mean((np.asarray(y_hat) - np.asarray(y)) ** 2))\n"
        "    ### END SOLUTION",
        "rng = np.random.default_rng(SEED)\nX = rng.normal(size=(N_SAMPLES, 3))\n"
        "w_true = np.array([1.0, -2.0, 0.5])\ny = predict(X, w_true, 0.3)\n"
        'print(f"MSE of a zero model: {mse(np.zeros_like(y), y):.3f}")',
    ],
    public_test="""import numpy as np


def test_predict_shape(nb):
    out = nb.call("predict", np.ones((4, 3)), np.zeros(3), 0.0)
    assert np.shape(out) == (4,), f"predict gave shape {np.shape(out)} for 4 rows, not (4,)"
""",
    hidden_test="""import numpy as np

from grader.checks import relative_error


def test_predict_values(nb):
    rng = np.random.default_rng(1)
    X, w = rng.normal(size=(20, 3)), rng.normal(size=3)
    got = nb.call("predict", X, w, 0.7)
    assert relative_error(got, X @ w + 0.7) < 1e-9, "predict(X, w, b) must equal X @ w + b"


def test_mse_values(nb):
    rng = np.random.default_rng(2)
    y_hat, y = rng.normal(size=50), rng.normal(size=50)
    got = nb.call("mse", y_hat, y)
    expected = np.mean((y_hat - y) ** 2)
    assert relative_error(got, expected) < 1e-9, "mse must be the mean of (y_hat - y) ** 2"
""",
    criteria="""\
  - id: predict_shape
    name: predict gives one value per row (public)
    points: 2
    tests: [public/test_basics.py::test_predict_shape]
    feedback:
      pass: "predict returns one value per row."
      fail: "predict(X, w, b) must return an array of shape (N,) for N rows."
  - id: predict_values
    name: predict on random data
    points: 4
    tests: [hidden/test_values.py::test_predict_values]
    feedback:
      pass: "predict computes X @ w + b."
      fail: "predict must return X @ w + b: check the product and the bias."
  - id: mse
    name: The mean squared error
    points: 4
    tests: [hidden/test_values.py::test_mse_values]
    feedback:
      pass: "mse is the mean of the squared errors."
      fail: "mse must be the mean (not the sum) of (y_hat - y) ** 2."
""",
)

_MODEL_TESTS = {
    "public": """from grader.checks import expect_output_shapes, output_shapes


def test_output_shape(nb):
    shapes = output_shapes(nb, "model", [(5, 4), (1, 4)])
    expect_output_shapes(shapes, lambda s: (s[0], 2))
""",
    "hidden": """from grader.checks import expect_param_count, param_counts


def test_param_count(nb):
    hidden = nb.get("HIDDEN")
    expected = 4 * hidden + hidden + hidden * 2 + 2
    expect_param_count(param_counts(nb, "model"), expected, {4 * hidden + hidden * 2: "no biases"})
""",
}

_MODEL_CRITERIA = """\
  - id: output_shape
    name: The model maps 4 features to 2 outputs (public)
    points: 4
    tests: [public/test_basics.py::test_output_shape]
    feedback:
      pass: "model maps (N, 4) to (N, 2)."
      fail: "build_model() must return a model taking 4 features and giving 2 outputs."
  - id: param_count
    name: One hidden layer of HIDDEN units
    points: 6
    tests: [hidden/test_values.py::test_param_count]
    feedback:
      pass: "The model has the expected layers and parameters."
      fail: "Use one hidden layer of HIDDEN units with biases, then the output layer."
"""

_MODEL_INTERFACE = (
    "**The interface.** The grader measures `model`, the network `build_model()` returns: "
    "it maps an `(N, 4)` batch to `(N, 2)` outputs through one hidden layer of `HIDDEN` "
    "units ({params} parameters for `HIDDEN = 8`). Keep both names."
)


def _model_template(title: str, imports: str, build: str, seed: str, show: str) -> Template:
    """A 4-HIDDEN-2 network: ``build`` is the marked body of ``build_model()``."""
    return Template(
        title=title,
        parameters="SEED = 0\nHIDDEN = 8",
        imports=imports,
        interface=_MODEL_INTERFACE.format(params=58),
        code=[
            'def build_model():\n    """4 inputs, HIDDEN ReLU units, 2 outputs."""\n' + build,
            f"{seed}\nmodel = build_model()\n{show}",
        ],
        public_test=_MODEL_TESTS["public"],
        hidden_test=_MODEL_TESTS["hidden"],
        criteria=_MODEL_CRITERIA,
    )


TORCH = _model_template(
    "A small multi-layer perceptron in PyTorch",
    "import torch\nfrom torch import nn",
    "    ### BEGIN SOLUTION: return an nn.Module mapping 4 features to 2 outputs\n"
    + AUTHOR_NEXT
    + "    return nn.Sequential(nn.Linear(4, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 2))\n"
    "    ### END SOLUTION",
    "torch.manual_seed(SEED)",
    "print(model)",
)

KERAS = _model_template(
    "A small multi-layer perceptron in Keras",
    "import keras\nfrom keras import layers",
    "    ### BEGIN SOLUTION: return a keras.Sequential mapping 4 features to 2 outputs\n"
    + AUTHOR_NEXT
    + "    return keras.Sequential(\n"
    '        [keras.Input(shape=(4,)), layers.Dense(HIDDEN, activation="relu"), layers.Dense(2)]\n'
    "    )\n"
    "    ### END SOLUTION",
    "keras.utils.set_random_seed(SEED)",
    "model.summary()",
)

TEMPLATES: dict[str, Template] = {"numpy": NUMPY, "torch": TORCH, "keras": KERAS}
