"""The command line: exit codes, messages, and validate (real kernels, toy course)."""

import subprocess
import sys
from pathlib import Path

TOY = Path(__file__).parent / "fixtures" / "toy_course"


def grader(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_validate_passes_on_a_good_assignment():
    done = grader("validate", "toy", "--course", str(TOY))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "solution full marks" in done.stderr


def test_validate_fails_when_the_stub_passes(tmp_path):
    course = tmp_path / "course"
    subprocess.run(["cp", "-r", str(TOY), str(course)], check=True)
    (course / "assignments" / "toy" / "stub.ipynb").write_bytes(
        (course / "solutions" / "toy.ipynb").read_bytes()
    )
    done = grader("validate", "toy", "--course", str(course))
    assert done.returncode == 1 and "stub passes 'add'" in done.stderr


def test_grade_writes_reports_and_exits_zero_whatever_the_score(tmp_path):
    stub = TOY / "assignments" / "toy" / "stub.ipynb"
    done = grader("grade", str(stub), "--course", str(TOY), "--out", str(tmp_path / "o"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o" / "report.html").is_file() and "score: 1 / 10" in done.stdout


def test_check_says_hidden_tests_run_later():
    done = grader("check", str(TOY / "solutions" / "toy.ipynb"), "--course", str(TOY))
    assert done.returncode == 0
    assert "Hidden tests will also be run" in done.stderr
    assert "scale" not in done.stdout


def test_errors_are_one_line_with_the_reason(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{")
    done = grader("grade", str(broken), "-a", "toy", "--course", str(TOY), "--out", str(tmp_path))
    assert done.returncode == 3 and "invalid JSON" in done.stderr
    assert "Traceback" not in done.stderr
    done = grader("grade", str(broken), "-a", "nope", "--course", str(TOY))
    assert done.returncode == 2 and "no assignment 'nope'" in done.stderr
    assert "Traceback" not in done.stderr
    done = grader("grade", str(broken), "-a", "toy", cwd=tmp_path)
    assert done.returncode == 2 and "no course found" in done.stderr


def test_broken_rubric_fails_before_any_kernel(tmp_path):
    course = tmp_path / "course"
    subprocess.run(["cp", "-r", str(TOY), str(course)], check=True)
    rubric = course / "rubrics" / "toy.yaml"
    rubric.write_text(rubric.read_text().replace("test_add]", "test_nothing]"))
    done = grader(
        "grade", str(TOY / "solutions" / "toy.ipynb"), "-a", "toy", "--course", str(course)
    )
    assert done.returncode == 2 and "test_nothing" in done.stderr


def test_data_lists_datasets_and_how_to_provide_them(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "grader", "data"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GRADER_DATA": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert "cifar10: offline tier" in done.stdout and "GRADER_DATA" in done.stdout
