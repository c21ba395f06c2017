"""The PyTorch labs `regression_torch` and `rnn_lstm` are complete, consistent and gradable.

Fast tests read the files: configs and rubrics validate, notebooks are valid and tagged,
the committed stubs are what `grader assign` generates from the solutions, every rubric
test exists and is used, every assert speaks to the student, and the data the hidden
tests build for themselves has the shapes and baselines the curriculum records. Slow
tests run the real thing: the solution passes every test in a sandboxed kernel, the stub
fails every test that needs student code, and each example submission fails exactly the
criteria (and gets the score) its EXPECTED.md lists.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import nbformat
import numpy as np
import pytest
import yaml

from grader.authoring import stub_text
from grader.config import AssignmentConfig
from grader.course import find_course
from grader.notebook import prepare
from grader.rubric import defined_tests, load_rubric
from grader.testing.live import live_notebook
from grader.testing.plugin import run_tests

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ["regression_torch", "rnn_lstm"]


def folder(name: str) -> Path:
    return ROOT / "assignments" / name


def config(name: str) -> AssignmentConfig:
    return AssignmentConfig.model_validate(
        yaml.safe_load((folder(name) / "assignment.yaml").read_text(encoding="utf-8"))
    )


def rubric(name: str):
    return load_rubric(ROOT / "rubrics" / f"{name}.yaml", folder(name) / "tests")


def assignment_test_files(name: str) -> list[Path]:
    return sorted((folder(name) / "tests").glob("*/test_*.py"))


def read_notebook(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    return notebook


def examples_dir(name: str) -> Path:
    return ROOT / "examples" / "submissions" / name


def examples(name: str) -> list[Path]:
    return sorted(examples_dir(name).glob("*.ipynb"))


def expected_rows(name: str) -> dict[str, tuple[float, set[str]]]:
    """EXPECTED.md's table: ``| `file.ipynb` | score | `crit`, `crit` | why |`` per row."""
    rows = {}
    text = (examples_dir(name) / "EXPECTED.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        match = re.match(r"\|\s*`([\w-]+)\.ipynb`\s*\|\s*([\d.]+)\s*\|([^|]*)\|", line)
        if match:
            rows[match.group(1)] = (float(match.group(2)), set(re.findall(r"`(\w+)`", match[3])))
    return rows


def load_test_module(name: str, relative: str) -> ModuleType:
    """Import an assignment's test file under a unique name, to reuse its data helpers."""
    path = folder(name) / "tests" / relative
    spec = importlib.util.spec_from_file_location(f"_lab_{name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- fast: the files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_config_and_course_agree(name):
    cfg = config(name)
    assert cfg.name == name and cfg.framework == "pytorch"
    assert find_course(ROOT).assignment(name).config == cfg
    assert 5 <= len(cfg.viva_questions) <= 7
    assert {"EPOCHS", "BATCH_SIZE", "LEARNING_RATE"} <= set(cfg.grading_parameters)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_notebooks_are_valid_and_parameterised(name):
    cfg = config(name)
    for path in (folder(name) / cfg.stub, ROOT / "solutions" / f"{name}.ipynb"):
        notebook = read_notebook(path)
        assert notebook.metadata["dlgrader"]["assignment"] == name
        tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: exactly one cell must be tagged `parameters`"
        assigned = {
            target.id
            for node in ast.parse(tagged[0].source).body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert set(cfg.grading_parameters) <= assigned, f"{path.name}: grading parameters"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_stub_is_generated_from_the_solution(name):
    stub = folder(name) / config(name).stub
    expected = stub_text(ROOT / "solutions" / f"{name}.ipynb", name)
    assert stub.read_text(encoding="utf-8") == expected, f"regenerate: grader assign {name}"
    assert "BEGIN SOLUTION" not in expected


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_plots_its_loss_curve(name):
    notebook = read_notebook(ROOT / "solutions" / f"{name}.ipynb")
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "plt.subplots" in code and "history" in code and "set_xlabel" in code


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_rubric_names_real_tests_and_uses_them_all(name):
    loaded = rubric(name)
    assert loaded.assignment == name
    assert loaded.max_points == 50, "the manuals mark an experiment out of 50"
    named = {t for c in loaded.criteria for t in c.tests}
    tests_root = folder(name) / "tests"
    defined = {
        f"{path.relative_to(tests_root).as_posix()}::{test}"
        for path in assignment_test_files(name)
        for test in defined_tests(path)
    }
    assert named == defined, f"unused: {defined - named}, missing: {named - defined}"
    assert any(all(t.startswith("public/") for t in c.tests) for c in loaded.criteria)
    assert all(c.feedback.passed and c.feedback.failed for c in loaded.criteria)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_assert_has_a_message_for_the_student(name):
    for path in assignment_test_files(name):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bare = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert) and not n.msg]
        assert not bare, f"{path.name}: asserts without a message at lines {bare}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_examples_are_listed_in_expected(name):
    listed = expected_rows(name)
    assert sorted(p.stem for p in examples(name)) == sorted(listed)
    assert 3 <= len(listed) <= 5
    criterion_ids = {c.id for c in rubric(name).criteria}
    for stem, (_, failing) in listed.items():
        assert failing <= criterion_ids, f"{stem}: unknown criteria {failing - criterion_ids}"
        notebook = read_notebook(examples_dir(name) / f"{stem}.ipynb")
        assert notebook.metadata["dlgrader"]["assignment"] == name
        code = "".join(c.source for c in notebook.cells if c.cell_type == "code")
        assert "NotImplementedError" not in code and "BEGIN SOLUTION" not in code


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


def run_assignment_tests(name: str, notebook_path: Path):
    """Execute a notebook as grading does (parameters injected) and run every test file."""
    cfg = config(name)
    notebook = prepare(read_notebook(notebook_path), cfg.grading_parameters)
    context = {"tier": "offline", "gpu_available": False}
    with live_notebook(notebook, limits=cfg.limits, context=context) as (_nb, run):
        outcomes, _ = run_tests(
            assignment_test_files(name), run.bridge, context, folder(name) / "tests"
        )
    return {f"{o.file}::{o.name}": o for o in outcomes}


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_passes_every_test(name):
    outcomes = run_assignment_tests(name, ROOT / "solutions" / f"{name}.ipynb")
    assert len(outcomes) == sum(len(c.tests) for c in rubric(name).criteria)
    for test_id, outcome in outcomes.items():
        assert outcome.outcome == "passed", f"{test_id}: {outcome.outcome} {outcome.message}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_stub_fails_every_student_code_test(name):
    outcomes = run_assignment_tests(name, folder(name) / config(name).stub)
    for criterion in rubric(name).criteria:
        if criterion.student_code:
            for test_id in criterion.tests:
                assert outcomes[test_id].outcome in ("failed", "error"), f"stub passes {test_id}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, example", [(name, path.stem) for name in ASSIGNMENTS for path in examples(name)]
)
def test_example_fails_exactly_the_expected_criteria(name, example):
    from grader.pipeline import grade

    assignment = find_course(ROOT).assignment(name)
    result = grade(assignment, examples_dir(name) / f"{example}.ipynb").result
    assert result.grading_error is None, result.grading_error
    not_full = {c.id for c in result.criteria if c.status != "passed"}
    details = {c.id: c.detail for c in result.criteria if c.id in not_full}
    score, failing = expected_rows(name)[example]
    assert not_full == failing, details
    assert sum(c.points for c in result.criteria) == score, details


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
