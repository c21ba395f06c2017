"""The NumPy labs `neurons` and `optimizers` are complete, consistent and gradable.

Fast tests read the files: configs and rubrics validate, notebooks are valid and tagged,
the committed stubs are what `grader assign` generates from the solutions, every rubric
test exists and is used, every assert speaks to the student, and the hidden tests'
reference implementations reproduce the numbers the curriculum records for the seed
manuals. Slow tests run the real thing: the solution passes every test in a sandboxed
kernel, the stub fails every test that needs student code, and each example submission
fails exactly the criteria (and gets the score) its EXPECTED.md lists.
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
ASSIGNMENTS = ["neurons", "optimizers"]


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
    """Import an assignment's test file under a unique name, to reuse its references."""
    path = folder(name) / "tests" / relative
    spec = importlib.util.spec_from_file_location(f"_lab_{name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- fast: the files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_config_and_course_agree(name):
    cfg = config(name)
    assert cfg.name == name and cfg.framework == "numpy"
    assert find_course(ROOT).assignment(name).config == cfg
    assert 5 <= len(cfg.viva_questions) <= 7
    assert cfg.limits.request_timeout <= 20, "every correct call returns in milliseconds"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_notebooks_are_valid_and_parameterised(name):
    for path in (folder(name) / config(name).stub, ROOT / "solutions" / f"{name}.ipynb"):
        notebook = read_notebook(path)
        assert notebook.metadata["dlgrader"]["assignment"] == name
        tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: exactly one cell must be tagged `parameters`"
        ast.parse(tagged[0].source)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_stub_is_generated_from_the_solution(name):
    stub = folder(name) / config(name).stub
    expected = stub_text(ROOT / "solutions" / f"{name}.ipynb", name)
    assert stub.read_text(encoding="utf-8") == expected, f"regenerate: grader assign {name}"
    assert "BEGIN SOLUTION" not in expected


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


def test_optimizer_references_reproduce_the_seed_numbers():
    """The numbers of curriculum.md (seed 000 E3), recomputed by the hidden references."""
    ref = load_test_module("optimizers", "hidden/test_optimizers.py")
    x, y, starts = ref.seed_data()
    assert starts["sgd"] == (0.09707754934804039, 0.9686449905328892)
    design = np.hstack([x, np.ones_like(x)])
    assert np.allclose(np.linalg.lstsq(design, y, rcond=None)[0].ravel(), [1.9776566, 1.00966893])
    w, b, _ = ref.ref_sgd(x, y, *starts["sgd"], ref.LR, ref.EPOCHS)
    assert abs(w - 1.92502407) < 1e-8 and abs(b - 1.03508257) < 1e-8
    w, b, _ = ref.ref_minibatch(x, y, *starts["minibatch"], ref.LR, ref.BATCH, ref.EPOCHS)
    assert abs(w - 0.7911081086681657) < 1e-12 and abs(b - 1.5708653450938141) < 1e-12
    w, b, _ = ref.ref_momentum(x, y, *starts["momentum"], ref.LR, ref.BETA, ref.EPOCHS)
    assert abs(w - 1.94629625) < 1e-8 and abs(b - 1.02554776) < 1e-8
    # The manual's printed SGD line is one update from the SGD start (the `return` bug).
    w, b, _ = ref.ref_sgd(x[:1], y[:1], *starts["sgd"], ref.LR, 1)
    assert abs(w - 0.10320444) < 1e-8 and abs(b - 0.98500344) < 1e-8


def test_optimizer_comparison_catches_a_wrong_answer():
    ref = load_test_module("optimizers", "hidden/test_optimizers.py")
    x, y, w, b = ref.random_problem(0)
    right = ref.ref_sgd(x, y, w, b, 0.05, 3)
    ref.expect_same(right, right, "same")
    with pytest.raises(AssertionError, match="expected W"):
        ref.expect_same((right[0] * (1 + 1e-7), right[1], right[2]), right, "off")
    with pytest.raises(AssertionError, match="one per epoch"):
        ref.expect_same((right[0], right[1], right[2][:1]), right, "short")
    # Momentum with beta 0 is SGD; with beta 0.9 it is not.
    ref.expect_same(ref.ref_momentum(x, y, w, b, 0.05, 0.0, 3), right, "beta 0")
    with pytest.raises(AssertionError):
        ref.expect_same(ref.ref_momentum(x, y, w, b, 0.05, 0.9, 3), right, "beta 0.9")
    # Adam's bias-corrected first step is lr for each parameter.
    new_w, new_b, _ = ref.ref_adam(x, y, w, b, 0.01, len(x), 1)
    assert abs(abs(new_w - w) - 0.01) < 1e-8 and abs(abs(new_b - b) - 0.01) < 1e-8


def test_neuron_data_sets_are_what_the_tests_claim():
    ref = load_test_module("neurons", "hidden/test_perceptron.py")
    for seed, (n, dim) in enumerate(((40, 2), (60, 3), (80, 4))):
        x, y = ref.separable_data(2 * n, dim, seed)
        assert x.shape == (2 * n, dim) and 0 < y.mean() < 1, "both classes, full size"
    mcp = load_test_module("neurons", "hidden/test_mcp.py")
    assert [mcp.reference_mcp(np.array(v), np.array([1, 1]), 2) for v in ref.INPUTS_2] == [
        0,
        0,
        0,
        1,
    ]
    # The manual's NOT (weight +1, threshold 0) is what the gate test must reject.
    assert [mcp.reference_mcp(np.array([v]), np.array([1]), 0) for v in (0, 1)] != mcp.TABLES["NOT"]


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
