"""What is particular to the PyTorch labs `regression_torch` and `rnn_lstm`.

The checks every assignment gets (files valid, stub generated, rubric complete, solution
passes, stub fails, examples score as EXPECTED.yaml says) are in test_assignments_content.py.
Here: the solutions plot their loss, the bands match the hidden pass marks, the data the
hidden tests build has the curriculum's shapes and baselines, deliberately wrong
notebooks fail the checks the examples do not exercise, and a regression notebook that
scales its features its own way is warned about in public and named in the hidden
feedback, unless its preprocess(X) says how.
"""

from __future__ import annotations

import numpy as np
import pytest
from course_files import (
    ROOT,
    assignment_test_files,
    config,
    folder,
    load_test_module,
    read_notebook,
    rubric,
)

from grader.testing.live import live_notebook
from grader.testing.plugin import run_tests

ASSIGNMENTS = ["regression_torch", "rnn_lstm"]


# -- fast: the files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_plots_its_loss_curve(name):
    notebook = read_notebook(ROOT / "solutions" / f"{name}.ipynb")
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "plt.subplots" in code and "history" in code and "set_xlabel" in code


def test_mse_bands_match_the_hidden_pass_marks():
    """The full-credit band of each graded ratio is the pass mark its test asserts."""
    results = {
        "regression_torch": load_test_module("regression_torch", "hidden/test_results.py"),
        "rnn_lstm": load_test_module("rnn_lstm", "hidden/test_results.py"),
    }
    marks = {
        ("regression_torch", "test_error"): results["regression_torch"].PASS_RATIO,
        ("rnn_lstm", "lstm_forecast"): results["rnn_lstm"].PASS_RATIO["lstm_model"],
        ("rnn_lstm", "rnn_forecast"): results["rnn_lstm"].PASS_RATIO["rnn_model"],
    }
    for (name, criterion_id), mark in marks.items():
        criterion = next(c for c in rubric(name).criteria if c.id == criterion_id)
        first = criterion.bands["offline"][0]
        assert first.fraction == 1.0 and first.at_most == mark, (name, criterion_id)


def test_regression_data_is_the_curriculum_split():
    """Diabetes: 353 training and 89 test rows; test rows standardised with train statistics."""
    split = load_test_module("regression_torch", "hidden/test_standardization.py")
    x_train, x_test, y_train, y_test = split.diabetes_split()
    assert x_train.shape == (353, 10) and x_test.shape == (89, 10)
    results = load_test_module("regression_torch", "hidden/test_results.py")
    x, y = results.standardised_test_rows()
    assert x.shape == (89, 10) and y.shape == (89,)
    # Standardised with the training rows' statistics, so the test mean is not exactly 0.
    assert 0.01 < np.abs(x.mean(axis=0)).max() < 0.5
    assert np.allclose(y * y_train.std() + y_train.mean(), y_test)


def test_public_preparation_rows_are_training_rows_not_test_rows():
    public = load_test_module("regression_torch", "public/test_regression_basics.py")
    split = load_test_module("regression_torch", "hidden/test_standardization.py")
    x_train, x_test, y_train, _ = split.diabetes_split()
    rows, raw, targets = public.public_rows()
    assert rows.shape == (public.PUBLIC_ROWS, 10) and targets.shape == (public.PUBLIC_ROWS,)
    as_rows = {tuple(r) for r in x_train}
    assert all(tuple(r) in as_rows for r in raw)  # training rows only
    assert not {tuple(r) for r in x_test} & {tuple(r) for r in raw}  # never the test rows
    assert np.allclose(rows, (raw - x_train.mean(axis=0)) / x_train.std(axis=0), atol=1e-5)


def test_rnn_held_out_series_has_the_seed_shapes_and_a_beatable_baseline():
    """980 windows of 20; the last-value MSE is about twice the noise variance (0.01)."""
    results = load_test_module("rnn_lstm", "hidden/test_results.py")
    x, y = results.held_out_windows()
    assert x.shape == (980, 20, 1) and y.shape == (980,)
    naive = float(np.mean((x[:, -1, 0] - y) ** 2))
    assert 0.015 < naive < 0.03
    # The noise-free next value (a perfect forecaster) would reach a ratio near 0.5.
    t = np.linspace(0.0, 40.0, 1_000) + results.PHASE
    perfect = float(np.mean((np.sin(t[20:]) - y) ** 2))
    assert 0.35 < perfect / naive < 0.65


def test_standardization_checks_catch_test_statistics():
    """The fresh-data helper and comparison the standardisation tests rely on."""
    split = load_test_module("regression_torch", "hidden/test_standardization.py")
    x = split.fresh_matrix(1)
    assert x.shape == (37, 6) and np.ptp(x[:, -1]) == 0 and x[:, :-1].std(axis=0).min() > 0
    with pytest.raises(AssertionError, match="shape"):
        split.as_array(np.zeros(5), "x_mean", (6,))
    with pytest.raises(AssertionError, match="NumPy array"):
        split.as_array([0.0] * 6, "x_mean", (6,))


# -- slow: real kernels -------------------------------------------------------------------


#: Wrong answers the examples do not cover, each paired with the tests that must catch it
#: (and a word of the message the student reads).
WRONG_ANSWERS = {
    "regression_torch": (
        """
import numpy as np
import torch
from torch import nn

def fit_standardizer(X):
    X = np.asarray(X, dtype=np.float64)
    return X.mean(axis=0), X.std(axis=0)          # a constant column divides by 0

def standardize(X, mean, std):
    return np.asarray(X) - mean                   # forgets to divide

class Regressor(nn.Module):
    def __init__(self, n_features, hidden_sizes=(64, 32)):
        super().__init__()                        # hard-codes the diabetes set's 10 inputs
        self.net = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                                 nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)
""",
        {
            "hidden/test_standardization.py::test_fit_standardizer_on_fresh_data": "constant",
            "hidden/test_standardization.py::test_standardize_on_fresh_data": "(X - mean) / std",
            "hidden/test_network.py::test_parameter_counts_for_any_width": "Regressor(3)",
        },
        ["public/test_regression_basics.py::test_parameter_count"],
    ),
    "rnn_lstm": (
        """
import numpy as np
import torch
from torch import nn

def make_windows(series, window):
    values = np.asarray(series, dtype=np.float32)
    count = len(values) - window - 1              # one window too few
    X = np.stack([values[i : i + window] for i in range(count)])[:, :, None]
    return X, values[window : window + count, None]

class Forecaster(nn.Module):
    def __init__(self, cell="lstm", hidden_size=16, num_layers=1):
        super().__init__()                        # ignores hidden_size and num_layers
        layer = nn.LSTM if cell == "lstm" else nn.RNN
        self.recurrent = layer(1, 16, batch_first=True)
        self.head = nn.Linear(16, 1)

    def forward(self, x):
        return self.head(self.recurrent(x)[0][:, -1])
""",
        {
            "public/test_rnn_lstm_basics.py::test_window_shapes": "(80, 20, 1)",
            "hidden/test_windows_and_layout.py::test_make_windows_exact": "one window per value",
            "hidden/test_windows_and_layout.py::test_parameter_counts": "'lstm', 50, 2",
        },
        [
            "public/test_rnn_lstm_basics.py::test_parameter_counts",
            "hidden/test_windows_and_layout.py::test_batch_first_layout",
        ],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_wrong_answers_fail_with_their_message(name):
    source, caught, still_right = WRONG_ANSWERS[name]
    context = {"tier": "offline", "gpu_available": False}
    with live_notebook([source], limits=config(name).limits, context=context) as (_nb, run):
        outcomes, _ = run_tests(
            assignment_test_files(name), run.bridge, context, folder(name) / "tests"
        )
    by_id = {f"{o.file}::{o.name}": o for o in outcomes}
    for test_id, words in caught.items():
        assert by_id[test_id].outcome == "failed", f"{test_id} passed a wrong answer"
        assert words in by_id[test_id].message, by_id[test_id].message
    for test_id in still_right:
        assert by_id[test_id].outcome == "passed", f"{test_id}: {by_id[test_id].message}"


#: The notebook's own preparation instead of the lab's: min-max scaling of the features.
MIN_MAX = """
low, high = X_train.min(axis=0), X_train.max(axis=0)
X_train_std = (X_train - low) / (high - low)
X_test_std = (X_test - low) / (high - low)
"""
HOOK = """
def preprocess(X):
    return (np.asarray(X, dtype=np.float64) - low) / (high - low)
"""


def min_max_cells(hook: bool) -> list[str]:
    """The regression solution's code cells, its features min-max scaled on its own split
    (the target still standardised), with or without a preprocess(X) that says how."""
    cells = []
    for cell in read_notebook(ROOT / "solutions" / "regression_torch.ipynb").cells:
        if cell.cell_type != "code":
            continue
        source = cell.source
        if "X_train_std = standardize(X_train, x_mean, x_std)" in source:
            source += MIN_MAX + (HOOK if hook else "")
        cells.append(source)
    return cells


@pytest.mark.slow
@pytest.mark.parametrize("hook", [False, True], ids=["own scaling", "own scaling, preprocess"])
def test_own_feature_scaling_is_named_unless_preprocess_says_how(hook):
    files = [
        path
        for path in assignment_test_files("regression_torch")
        if path.name in ("test_regression_basics.py", "test_results.py")
    ]
    context = {"tier": "offline", "gpu_available": False}
    limits = config("regression_torch").limits
    with live_notebook(min_max_cells(hook), limits=limits, context=context) as (_nb, run):
        assert not run.execution.errors, run.execution.errors[0]
        outcomes, _ = run_tests(files, run.bridge, context, folder("regression_torch") / "tests")
    by_name = {o.name: o for o in outcomes}
    public, hidden = by_name["test_input_preparation"], by_name["test_test_error_beats_the_mean"]
    if hook:
        assert public.outcome == hidden.outcome == "passed", (public.message, hidden.message)
        return
    assert public.outcome == "failed" and "on your test split" in public.message
    assert "150 training rows standardised as the lab states" in public.message
    assert hidden.outcome == "failed" and "on the 89 test rows prepared as" in hidden.message
