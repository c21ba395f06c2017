"""The hostile and broken submissions of hostile_cases.py, graded as one batch (real kernels).

The whole suite plus three correct submissions goes through ``grader grade`` in a single
call, with the tight limits a course would set (3 s per cell, 1 GiB, 256 MiB of disk, 64
processes). Each case must get its verdict, say what happened in words, flag tampering
for the instructor and nothing else; the correct ones must keep full marks; no student
output may contain hidden test text; and no process may outlive the batch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml
from click.testing import CliRunner
from hostile_cases import CASES, FULL, TOY, build, toy_solution

from grader.cli import main
from grader.results import GradingResult
from grader.runners.local import cgroups_writable

pytestmark = pytest.mark.slow

HOSTILE_LIMITS = {
    "cell_timeout": 3,
    "notebook_timeout": 40,
    "request_timeout": 5,
    "memory_mb": 1024,
    "disk_mb": 256,
    "processes": 64,
}
CORRECT = ("correct_a", "correct_b", "correct_c")


def runnable(case) -> bool:
    return case.needs != "pids" or cgroups_writable()


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> dict[str, GradingResult]:
    """Grade every case and three correct notebooks in one ``grader grade`` call."""
    root = tmp_path_factory.mktemp("hostile")
    course = root / "course"
    shutil.copytree(TOY, course)
    config_path = course / "assignments" / "toy" / "assignment.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["limits"] = HOSTILE_LIMITS
    config_path.write_text(yaml.safe_dump(config))
    submissions = root / "submissions"
    submissions.mkdir()
    for name in CORRECT:
        nbformat.write(toy_solution(), submissions / f"{name}.ipynb")
    toy = course / "assignments" / "toy"
    paths = {
        "hidden": str(toy / "tests" / "hidden" / "test_values.py"),
        "rubric": str(course / "rubrics" / "toy.yaml"),
        "config": str(config_path),
        "other": str(submissions / "correct_a.ipynb"),
        "outside": str(Path(__file__).resolve().parents[1] / "README.md"),
        "grader": str(Path(__file__).resolve().parents[1] / "grader"),
    }
    notebooks = [submissions / f"{name}.ipynb" for name in CORRECT]
    notebooks += [build(case, submissions, paths) for case in CASES if runnable(case)]
    out = root / "out"
    result = CliRunner().invoke(
        main,
        ["grade", "--course", str(course), "-a", "toy", "-o", str(out), *map(str, notebooks)],
    )
    assert result.exit_code == 3, result.output  # unreadable files are reported, not fatal
    graded = {}
    for notebook in notebooks:
        stored = out / notebook.stem / "results.json"
        graded[notebook.stem] = GradingResult.model_validate_json(stored.read_text())
    graded["__out__"] = out  # type: ignore[assignment]
    return graded


def student_text(result: GradingResult) -> str:
    """Everything a student reads about the grading of their notebook."""
    parts = [result.grading_error or "", *result.warnings]
    if result.execution:
        parts.append(result.execution.stop_reason or "")
        parts += [f"cell {c.cell} was skipped: {c.reason}" for c in result.execution.skipped_cells]
        parts += [f"{e.ename}: {e.evalue}" for e in result.execution.errors]
    parts += [f"{c.feedback} {c.detail}" for c in result.criteria]
    return "\n".join(parts)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_gets_its_verdict(batch, case):
    if not runnable(case):
        pytest.skip("no writable cgroup here: the process limit is not enforced")
    result = batch[case.name]
    expect = case.expect
    assert result.score.points == expect.points, student_text(result)
    if expect.says:
        assert re.search(expect.says, student_text(result)), student_text(result)
    if expect.flags:
        assert any(re.search(expect.flags, flag) for flag in result.flags), result.flags
    else:
        assert result.flags == [], "only tampering and misfiled notebooks are flagged"
    if expect.stopped is not None:
        stopped = bool(result.execution and result.execution.stopped_at_cell)
        assert stopped == expect.stopped


def test_correct_submissions_in_the_batch_keep_full_marks(batch):
    for name in CORRECT:
        result = batch[name]
        assert result.score.points == FULL and result.flags == [] and not result.grading_error


def test_no_hidden_test_text_reaches_a_student(batch):
    hidden = (TOY / "assignments" / "toy" / "tests" / "hidden" / "test_values.py").read_text()
    lines = [line.strip() for line in hidden.splitlines() if len(line.strip()) > 25]
    assert len(lines) >= 4
    out: Path = batch["__out__"]
    for folder in out.iterdir():
        for name in ("results.json", "report.html", "report.md"):
            path = folder / name
            if not path.exists():
                continue
            text = path.read_text(encoding="utf-8")
            if name == "results.json":
                text = json.dumps(json.loads(text))  # one escaping, as a reader sees it
            leaked = [line for line in lines if line in text]
            assert not leaked, f"{folder.name}/{name} shows hidden test text: {leaked[0]}"


def _kernel_processes() -> list[tuple[int, str]]:
    """Kernels (and their forks) whose work folder no longer exists: left behind."""
    orphans = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        text = [a.decode(errors="replace") for a in argv]
        if text[:2] == ["sleep", "600"]:
            orphans.append((int(entry.name), " ".join(text)))
        for arg in text:
            match = re.match(r"(/tmp/dlg-[^/]+)/kernel\.json$", arg)
            if match and not os.path.exists(match.group(1)):
                orphans.append((int(entry.name), " ".join(text)[:200]))
    return orphans


def test_no_process_outlives_the_batch(batch):
    assert batch  # the batch has run and every session has been torn down
    assert _kernel_processes() == []
