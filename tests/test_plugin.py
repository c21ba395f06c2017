"""The pytest plugin in isolation: outcomes, messages, and no leakage between runs."""

from grader.testing.plugin import describe, run_tests


def write(base, text):
    (base / "public").mkdir(parents=True)
    path = base / "public" / "test_same.py"
    path.write_text(text)
    return path


def test_same_relative_path_in_two_courses_runs_each_own_file(tmp_path):
    """pytest's importlib mode caches modules by rootdir-relative name; each run must not."""
    first = write(tmp_path / "a", "def test_x():\n    assert True\n")
    second = write(tmp_path / "b", "def test_x():\n    assert False, 'from b'\n")
    (outcome_a,), _ = run_tests([first], None, {}, tmp_path / "a")
    (outcome_b,), _ = run_tests([second], None, {}, tmp_path / "b")
    assert (outcome_a.outcome, outcome_b.outcome) == ("passed", "failed")
    assert outcome_b.message == "from b" and outcome_b.file == "public/test_same.py"


def test_messages_are_first_lines_without_source(tmp_path):
    path = write(
        tmp_path,
        "def test_plain():\n    value = 3\n    assert value == 4\n\n"
        "def test_message():\n    assert 1 == 2, 'first line\\nsecond line'\n",
    )
    outcomes = {o.name: o for o in run_tests([path], None, {}, tmp_path)[0]}
    assert outcomes["test_plain"].message == "the check did not hold"
    assert "value" not in outcomes["test_plain"].message
    assert outcomes["test_message"].message == "first line"


def test_unexpected_exceptions_are_errors_not_failures():
    kind, message = describe(KeyError("boom"))
    assert kind == "error" and "KeyError" in message
    assert describe(AssertionError(""))[1] == "the check did not hold"


def test_failures_are_reported_without_a_formatted_traceback(tmp_path):
    """pytest would render each failure's traceback with source (parsing every file on the
    way); the plugin's report carries the student's line, and skips and groups still get
    their meaning."""
    import pytest

    from grader.testing.plugin import GraderPlugin

    path = write(
        tmp_path,
        "import pytest\n\n"
        "def helper():\n    raise AssertionError('deep\\nmore')\n\n"
        "def test_deep():\n    helper()\n\n"
        "def test_skip():\n    pytest.skip('later')\n\n"
        "def test_group():\n    raise ExceptionGroup('two', [ValueError('a'), KeyError('b')])\n",
    )

    class Reports:
        def __init__(self):
            self.seen = {}

        def pytest_runtest_logreport(self, report):
            if report.when == "call":
                self.seen[report.nodeid.rpartition("::")[2]] = report

    plugin, reports = GraderPlugin(None, {}, tmp_path), Reports()
    pytest.main(
        [str(path), "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)],
        plugins=[plugin, reports],
    )
    deep = reports.seen["test_deep"]
    assert deep.failed and deep.longrepr == "deep" and deep.dlgrader == ("failed", "deep")
    assert reports.seen["test_skip"].skipped
    outcomes = {o.name: o for o in plugin.outcomes.values()}
    assert outcomes["test_skip"].outcome == "skipped"
    assert outcomes["test_group"].outcome == "error"
    assert "ExceptionGroup" in outcomes["test_group"].message
