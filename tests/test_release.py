"""A release holds what students need and nothing of the hidden part."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from grader.course import find_course
from grader.release import build_release

ROOT = Path(__file__).resolve().parent.parent
COURSE = find_course(ROOT)


def solution_code(name: str) -> list[str]:
    """Every non-trivial line the solution hides between markers."""
    hidden, inside = [], False
    for cell in nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4).cells:
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) > 25:
                hidden.append(line.strip())
    return hidden


@pytest.mark.parametrize("name", COURSE.assignment_names())
def test_zip_has_no_hidden_tests_solution_or_hidden_text(tmp_path, name):
    assignment = COURSE.assignment(name)
    _folder, archive = build_release(assignment, tmp_path)
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        # Data files (a pretrained network) are binary: searched as text all the same.
        text = "\n".join(zipped.read(n).decode("utf-8", errors="replace") for n in names)
    assert f"{name}/{name}.ipynb" in names
    assert any("/tests/public/" in n for n in names)
    assert not any("hidden" in n or "solution" in n for n in names), names
    # Lines a hidden test shares with what students get anyway (the stub, the public
    # tests: an import, a common call) are not a leak; any other hidden line is.
    shipped = assignment.stub.read_text() + "".join(
        path.read_text() for path in (assignment.tests_root / "public").glob("*.py")
    )
    for hidden_test in (assignment.tests_root / "hidden").glob("*.py"):
        for line in hidden_test.read_text().splitlines():
            line = line.strip()
            if len(line) > 25 and line not in shipped and not line.startswith(("#", '"""')):
                assert line not in text, f"hidden test source leaked: {line}"
    leaked = [line for line in solution_code(name) if line in text]
    assert not leaked, f"solution lines in the release: {leaked[:3]}"
    for criterion in assignment.rubric.criteria:
        if criterion.visibility != "visible" and criterion.feedback is not None:
            assert criterion.feedback.failed not in text and criterion.feedback.passed not in text
    for question in assignment.config.viva_questions:
        assert question not in text
    overview = yaml.safe_load(zipped_text(archive, f"{name}/criteria.yaml"))
    assert overview["total"] == assignment.rubric.max_points


def zipped_text(archive, member):
    with zipfile.ZipFile(archive) as zipped:
        return zipped.read(member).decode("utf-8")


def test_release_is_reproducible(tmp_path):
    assignment = COURSE.assignment("backprop")
    _, first = build_release(assignment, tmp_path / "a")
    _, second = build_release(assignment, tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()


def test_students_can_check_inside_the_release(tmp_path):
    """Unzipped anywhere, the release is a course: grader check runs its public tests."""
    folder, _ = build_release(COURSE.assignment("backprop"), tmp_path)
    work = folder / "backprop.ipynb"
    shutil.copy(ROOT / "solutions" / "backprop.ipynb", work)  # a student who got it right
    done = subprocess.run(
        [sys.executable, "-m", "grader", "check", work.name],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Public tests only" in done.stderr and "failed" not in done.stdout


def test_data_files_reach_the_student_and_the_released_course(tmp_path):
    """transfer ships its pretrained base: beside the notebook, and where `check` finds it."""
    folder, _ = build_release(COURSE.assignment("transfer"), tmp_path)
    assert (folder / "data" / "base.keras").is_file()
    released = find_course(folder).assignment("transfer")
    assert released.data_folder is not None
    assert (released.data_folder / "base.keras").read_bytes() == (
        folder / "data" / "base.keras"
    ).read_bytes()


def test_readme_and_criteria_name_the_checks_students_can_run(tmp_path):
    """check("q1") in the notebook: the README and criteria.yaml say which q is which."""
    folder, _ = build_release(COURSE.assignment("backprop"), tmp_path)
    readme = (folder / "README.md").read_text()
    assert 'check("q1")' in readme and "| `q2` | `basic_values` |" in readme
    assert "grader check --submit backprop.ipynb" in readme
    overview = yaml.safe_load((folder / "criteria.yaml").read_text())
    checks = {c["id"]: c.get("check") for c in overview["criteria"]}
    assert checks["shapes"] == "q1" and checks["basic_values"] == "q2"
    assert checks["sigmoid"] is None, "a hidden-test criterion is not checkable"
