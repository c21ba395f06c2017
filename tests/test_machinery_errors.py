"""The grader's own test machinery failing is never the student's zero.

A pytest configuration broken on purpose, a plugin (conftest) that does not load, a test
file that does not import: each sets ``grading_error``, ``grader grade`` exits non-zero
with one line naming the cause, no criterion reads "not run", and a batch regrades the row.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.batch.gradebook import Gradebook
from grader.course import find_course
from grader.errors import TESTS_DID_NOT_RUN, grading_error_exit_code
from grader.pipeline import grade
from grader.results import TestOutcome
from grader.rubric import load_rubric
from grader.testing import plugin
from grader.testing.failures import TestsDidNotRun, check_every_criterion_ran

TOY = Path(__file__).parent / "fixtures" / "toy_course"
SOLUTION = TOY / "solutions" / "toy.ipynb"


def write_test(base: Path, text: str) -> Path:
    (base / "public").mkdir(parents=True, exist_ok=True)
    path = base / "public" / "test_one.py"
    path.write_text(text)
    return path


def test_a_broken_pytest_config_raises_with_its_reason(tmp_path, monkeypatch):
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\naddopts = --no-such-option\n")
    monkeypatch.setattr(plugin, "PYTEST_INI", ini)
    path = write_test(tmp_path / "t", "def test_x():\n    assert True\n")
    with pytest.raises(TestsDidNotRun) as caught:
        plugin.run_tests([path], None, {}, tmp_path / "t")
    message = str(caught.value)
    assert message.startswith(TESTS_DID_NOT_RUN) and "\n" not in message
    assert "--no-such-option" in message and "could not start" in message


def test_a_missing_pytest_config_raises(tmp_path, monkeypatch):
    """The first user's wheel lacked pytest.ini: that is an error, not 0/50."""
    monkeypatch.setattr(plugin, "PYTEST_INI", tmp_path / "absent.ini")
    path = write_test(tmp_path / "t", "def test_x():\n    assert True\n")
    with pytest.raises(TestsDidNotRun, match="absent.ini"):
        plugin.run_tests([path], None, {}, tmp_path / "t")


def test_a_test_file_that_does_not_import_raises(tmp_path):
    path = write_test(tmp_path, "import no_such_module_here\n\ndef test_x():\n    pass\n")
    with pytest.raises(TestsDidNotRun) as caught:
        plugin.run_tests([path], None, {}, tmp_path)
    assert "does not import" in str(caught.value)
    assert "no_such_module_here" in str(caught.value)


def test_a_conftest_that_fails_raises(tmp_path):
    path = write_test(tmp_path, "def test_x():\n    pass\n")
    (tmp_path / "conftest.py").write_text("raise RuntimeError('conftest broke')\n")
    with pytest.raises(TestsDidNotRun, match="conftest broke"):
        plugin.run_tests([path], None, {}, tmp_path)


def test_a_good_run_raises_nothing(tmp_path):
    path = write_test(tmp_path, "def test_x():\n    assert False, 'student wrong'\n")
    (outcome,), _ = plugin.run_tests([path], None, {}, tmp_path)
    assert outcome.outcome == "failed" and outcome.message == "student wrong"


def test_a_criterion_none_of_whose_tests_ran_is_named():
    rubric = load_rubric(TOY / "rubrics" / "toy.yaml", TOY / "assignments" / "toy" / "tests")
    ran = TestOutcome(name="test_add", file="public/test_basics.py", outcome="passed")
    with pytest.raises(TestsDidNotRun) as caught:
        check_every_criterion_ran(rubric.criteria, [ran])
    assert "scale" in str(caught.value) and "add," not in str(caught.value)
    everything = [
        TestOutcome(name=t.partition("::")[2], file=t.partition("::")[0], outcome="failed")
        for c in rubric.criteria
        for t in c.tests
    ]
    check_every_criterion_ran(rubric.criteria, everything)  # failures are the student's


def test_exit_codes_follow_the_cause():
    assert grading_error_exit_code(f"{TESTS_DID_NOT_RUN}: x") == 2
    assert grading_error_exit_code("the notebook could not be run: OSError") == 4
    assert grading_error_exit_code("not a notebook: invalid JSON") == 3


@pytest.mark.slow
def test_pipeline_sets_grading_error_and_no_criterion_reads_not_run(tmp_path, monkeypatch):
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\naddopts = --no-such-option\n")
    monkeypatch.setattr(plugin, "PYTEST_INI", ini)
    assignment = find_course(TOY).assignment("toy")
    result = grade(assignment, SOLUTION).result
    assert result.grading_error and result.grading_error.startswith(TESTS_DID_NOT_RUN)
    statuses = {c.id: c.status for c in result.criteria}
    assert "not_run" not in statuses.values()
    assert statuses["add"] == "error"
    assert all("--no-such-option" in c.detail for c in result.criteria if c.status == "error")


BREAK_AND_RUN = """
import sys
from pathlib import Path
from grader.testing import plugin
plugin.PYTEST_INI = Path(sys.argv.pop(1))
from grader.cli import run
sys.argv[0] = "grader"
run()
"""


@pytest.mark.slow
def test_grade_exits_non_zero_with_one_line_when_the_config_is_broken(tmp_path):
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\naddopts = --no-such-option\n")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", BREAK_AND_RUN, str(ini), "grade", str(SOLUTION)]
        + ["-a", "toy", "--course", str(TOY), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert TESTS_DID_NOT_RUN in errors[0] and "--no-such-option" in errors[0]
    assert "not run" not in done.stdout
    saved = json.loads((out / "results.json").read_text())
    assert saved["grading_error"].startswith(TESTS_DID_NOT_RUN)
    assert "Traceback" not in done.stderr


def test_a_batch_regrades_an_error_row(tmp_path):
    assignment = find_course(TOY).assignment("toy")
    failed = grade(assignment, SOLUTION, problem="the worker was killed").result
    assert failed.grading_error
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        book.record("ann", failed, tmp_path / "r.json", failed.model_dump_json())
        assert book.graded("toy") == set(), "an error row holds no score: grade it again"
        fixed = failed.model_copy(update={"grading_error": None})
        book.record("ann", fixed, tmp_path / "r.json", fixed.model_dump_json())
        assert book.graded("toy") == {("ann", failed.submission.sha256)}
