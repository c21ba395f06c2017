"""Every assignment of the course is complete, consistent and gradable.

Fast tests read the files: configs and rubrics validate, notebooks are valid and tagged,
every rubric test exists and every test is in the rubric, every assert speaks to the
student. Slow tests run the real thing: the solution passes every test in a sandboxed
kernel, the stub fails every test that needs student code, and each example submission
fails what its EXPECTED.yaml says it must, nothing it cannot explain, and correct examples
get full marks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
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

from grader import datasets
from grader.course import find_course
from grader.expectations import load_expectations
from grader.notebook import prepare
from grader.pipeline import grading_context
from grader.rubric import defined_tests
from grader.testing.live import live_notebook
from grader.testing.plugin import run_tests

#: Every assignment of this course: each new one is checked the same way.
ASSIGNMENTS = find_course(ROOT).assignment_names()


def parameters_cell(notebook: nbformat.NotebookNode):
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell must be tagged `parameters`"
    return tagged[0]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_config_and_course_agree(name):
    cfg = config(name)
    assert cfg.name == name
    assert find_course(ROOT).assignment(name).config == cfg
    assert cfg.viva_questions, "suggest viva questions for the instructor"
    if cfg.dataset:
        assert datasets.tier(cfg.dataset) in datasets.TIERS


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_notebooks_are_valid_and_parameterised(name):
    cfg = config(name)
    for path in (folder(name) / cfg.stub, ROOT / "solutions" / f"{name}.ipynb"):
        notebook = read_notebook(path)
        assert notebook.metadata["dlgrader"]["assignment"] == name
        cell = parameters_cell(notebook)
        assigned = {
            target.id
            for node in ast.parse(cell.source).body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        missing = set(cfg.grading_parameters) - assigned
        assert not missing, f"{path.name}: grading parameters {missing} are not in the cell"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_interface_is_declared_and_stated_in_the_stub(name):
    """Tests rely on the declared interface only; students read it in the stub's first cell."""
    interface = config(name).interface
    assert interface.required, "declare the names the tests need under interface.required"
    stub = read_notebook(folder(name) / config(name).stub)
    first = next(c for c in stub.cells if c.cell_type == "markdown").source
    unstated = [n for n in interface.names() if n not in first]
    assert not unstated, f"the stub's first markdown cell does not state {unstated}"


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
    assert named <= defined, f"rubric names missing tests: {sorted(named - defined)}"
    assert defined <= named, f"tests no criterion uses: {sorted(defined - named)}"
    assert any(all(t.startswith("public/") for t in c.tests) for c in loaded.criteria), (
        "`grader check` needs at least one criterion made of public tests"
    )


#: Labs whose public `input_preparation` criterion warns before submission (issue 16).
PREPARATION_LABS = [
    name for name in ASSIGNMENTS if any(c.id == "input_preparation" for c in rubric(name).criteria)
]


@pytest.mark.parametrize("name", PREPARATION_LABS)
def test_public_preparation_check_is_public_and_off_the_held_out_data(name):
    """The warning runs with `grader check` and measures on a public seed of its own, never
    on the hidden tests' held-out data (regression_torch draws training rows instead:
    test_assignments_torch_labs.py shows they are not test rows)."""
    criterion = next(c for c in rubric(name).criteria if c.id == "input_preparation")
    assert criterion.visibility == "visible" and criterion.student_code
    (test_id,) = criterion.tests
    assert test_id.startswith("public/")
    public = load_test_module(name, test_id.split("::")[0])
    held_out = {
        load_test_module(name, path.relative_to(folder(name) / "tests").as_posix()).HELD_OUT_SEED
        for path in assignment_test_files(name)
        if path.parent.name == "hidden" and "HELD_OUT_SEED =" in path.read_text(encoding="utf-8")
    }
    assert held_out or name == "regression_torch", "no held-out seed to compare with"
    assert public.PUBLIC_SEED not in held_out


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_assert_has_a_message_for_the_student(name):
    for path in assignment_test_files(name):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bare = [
            node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert) and not node.msg
        ]
        assert not bare, f"{path.name}: asserts without a message at lines {bare}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_examples_are_listed_in_expected(name):
    examples = folder_examples(name)
    expected = load_expectations(folder_examples_dir(name))
    assert sorted(p.stem for p in examples) == sorted(expected.examples)
    criteria = rubric(name).criteria
    criterion_ids = {c.id for c in criteria}
    assert expected.full_marks == sum(c.points for c in criteria if not c.requires_gpu)
    for stem, example in expected.examples.items():
        named = set(example.must_fail) | set(example.may_also_fail)
        assert named <= criterion_ids, f"{stem}: unknown criteria {named - criterion_ids}"
        assert not set(example.must_fail) & set(example.may_also_fail), stem
        notebook = read_notebook(folder_examples_dir(name) / f"{stem}.ipynb")
        assert notebook.metadata["dlgrader"]["assignment"] == name
    correct = [stem for stem, example in expected.examples.items() if example.correct]
    assert correct, "every lab needs a correct example"


def folder_examples_dir(name: str) -> Path:
    return ROOT / "examples" / "submissions" / name


def folder_examples(name: str) -> list[Path]:
    return sorted(folder_examples_dir(name).glob("*.ipynb"))


# -- slow: real kernels -------------------------------------------------------------------


def run_assignment_tests(name: str, notebook_path: Path):
    """Execute a notebook as grading does (parameters injected) and run every test file."""
    cfg = config(name)
    original = read_notebook(notebook_path)
    notebook = prepare(original, cfg.grading_parameters)
    tier = datasets.tier(cfg.dataset) if cfg.dataset else "offline"
    assignment = find_course(ROOT).assignment(name)
    context = grading_context(assignment, original, tier, gpu_available=False)
    data = folder(name) / "data"
    with live_notebook(
        notebook,
        limits=cfg.limits,
        context=context,
        data=data if data.is_dir() else None,
        numerics=cfg.numerics,
        framework=cfg.framework,
    ) as (_nb, run):
        outcomes, _ = run_tests(
            assignment_test_files(name), run.bridge, context, folder(name) / "tests"
        )
    return {f"{o.file}::{o.name}": o for o in outcomes}


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_passes_every_test(name):
    outcomes = run_assignment_tests(name, ROOT / "solutions" / f"{name}.ipynb")
    assert outcomes, "no test ran"
    for test_id, outcome in outcomes.items():
        if outcome.needs_gpu:
            continue
        assert outcome.outcome == "passed", f"{test_id}: {outcome.outcome} {outcome.message}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_stub_fails_every_student_code_test(name):
    outcomes = run_assignment_tests(name, folder(name) / config(name).stub)
    for criterion in rubric(name).criteria:
        if not criterion.student_code or criterion.requires_gpu:
            continue
        for test_id in criterion.tests:
            # A rubric may name a parametrized test by its bare name: any case may fail it.
            cases = [
                o for key, o in outcomes.items() if key == test_id or key.startswith(f"{test_id}[")
            ]
            assert cases, f"{test_id} did not run"
            assert any(o.outcome in ("failed", "error") for o in cases), (
                f"the stub passes {test_id}"
            )


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, example",
    [(name, path.stem) for name in ASSIGNMENTS for path in folder_examples(name)],
)
def test_example_gets_its_expected_verdict(name, example):
    from grader.pipeline import grade

    assignment = find_course(ROOT).assignment(name)
    result = grade(assignment, folder_examples_dir(name) / f"{example}.ipynb").result
    assert result.grading_error is None, result.grading_error
    failing = {c.id for c in result.criteria if c.status not in ("passed", "needs_gpu", "pending")}
    details = {c.id: c.detail for c in result.criteria if c.id in failing}
    expected = load_expectations(folder_examples_dir(name))
    # Points without GPU criteria, so the expectation holds on any machine.
    score = sum(c.points for c in result.criteria if not c.requires_gpu)
    problems = expected.examples[example].problems(failing, score, expected.full_marks)
    assert not problems, (problems, details)
