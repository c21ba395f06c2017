"""Run an assignment's pytest files in the grader's process against a live kernel.

The plugin provides the ``nb`` fixture and turns each test's report into a
:class:`~grader.results.TestOutcome`. It keeps only what a student may read:
the exception's first line (assertion messages are written for students), never
a traceback or the test's source, which pytest would otherwise print.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from grader.bridge import Bridge, RequestTimeout, StudentError
from grader.results import TestOutcome
from grader.testing.failures import check_started, collection_error
from grader.testing.fixture import GPUUnavailable, KernelNotRunning, Notebook

PYTEST_INI = Path(__file__).with_name("pytest.ini")
#: How the kernel side begins the message for a name the notebook does not define.
MISSING_NAME = "the notebook defines no "
MAX_MESSAGE = 1000
#: pytest inside a Jupyter kernel: capture at the Python level only (the kernel owns file
#: descriptors 1 and 2), and no faulthandler on a stderr that is a ZeroMQ stream.
IN_KERNEL_ARGS = ("--capture=sys", "-p", "no:faulthandler")


class GraderPlugin:
    """Collects outcomes of one run; registered with ``pytest.main(plugins=[...])``."""

    def __init__(self, bridge: Bridge, context: dict[str, Any], base: Path) -> None:
        self.bridge = bridge
        self.context = context
        self.base = base
        self.outcomes: dict[str, TestOutcome] = {}
        self.collection_errors: list[str] = []
        self._measured: dict[str, dict[str, Any]] = {}
        self._notes: dict[str, list[str]] = {}

    @pytest.fixture
    def nb(self, request: pytest.FixtureRequest) -> Notebook:
        notebook = Notebook(self.bridge, self.context)
        self._measured[request.node.nodeid] = notebook.measured
        self._notes[request.node.nodeid] = notebook.notes
        return notebook

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo
    ) -> pytest.TestReport | None:
        """Each report that is not a pass, with what it means to us (:func:`describe`).

        A failure's report is made here without the traceback pytest would format: pytest
        renders it with source, parsing every file on the way (20-40 ms for a failure
        raised through the bridge), and only the exception's first line ever reaches a
        student. Skips and exception groups (whose skips pytest unpacks) get pytest's own
        report; passes are left to pytest (None).
        """
        excinfo = call.excinfo
        if excinfo is None:
            return None
        meaning = describe(excinfo.value)
        if isinstance(excinfo.value, pytest.skip.Exception | BaseExceptionGroup):
            report = pytest.TestReport.from_item_and_call(item, call)
            report.dlgrader = meaning  # type: ignore[attr-defined]
            return report
        return pytest.TestReport(
            item.nodeid,
            item.location,
            dict.fromkeys(item.keywords, 1),
            "failed",
            meaning[1],
            call.when,  # type: ignore[arg-type]
            duration=call.duration,
            start=call.start,
            stop=call.stop,
            user_properties=item.user_properties,
            dlgrader=meaning,
        )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(collection_error(report.nodeid, report.longrepr))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or report.outcome != "passed":
            self._record(report)

    def _record(self, report: pytest.TestReport) -> None:
        path, _, name = report.nodeid.partition("::")
        kind, message = getattr(report, "dlgrader", ("failed", ""))
        if report.skipped:
            kind = {"gpu": "needs_gpu", "not_run": "not_run"}.get(kind, "skipped")
        elif report.when != "call":
            kind = "error"  # a fixture or setup problem, not the student's answer
        previous = self.outcomes.get(report.nodeid)
        if previous is not None and previous.outcome != "passed":
            return  # keep the first failure (a teardown error must not hide it)
        self.outcomes[report.nodeid] = TestOutcome(
            name=name,
            file=_relative(path, self.base),
            outcome="skipped"
            if report.skipped
            else ("passed" if report.passed else ("error" if kind == "error" else "failed")),
            message=message,
            needs_gpu=kind == "needs_gpu",
            not_run=kind == "not_run",
            measured=dict(self._measured.get(report.nodeid, {})),
            notes=list(self._notes.get(report.nodeid, [])),
            duration_s=round(report.duration, 4),
        )


def describe(exc: BaseException) -> tuple[str, str]:
    """Classify an exception from a test and give its student-facing first line."""
    if isinstance(exc, GPUUnavailable):
        return "gpu", "needs a GPU"
    if isinstance(exc, KernelNotRunning):
        return "not_run", _first_line(exc.msg)
    if isinstance(exc, pytest.skip.Exception):
        return "skipped", _first_line(exc.msg)
    if isinstance(exc, AssertionError):
        return "failed", _first_line(str(exc)) or "the check did not hold"
    if isinstance(exc, StudentError):
        if exc.type_name == "NameError" and exc.message.startswith(MISSING_NAME):
            # Nothing raised: the kernel says which name is missing, and its close spelling.
            return "failed", _first_line(exc.message)
        return "failed", f"your code raised {_first_line(str(exc))}"
    if isinstance(exc, RequestTimeout):
        return "failed", f"your code did not finish: {exc}"
    return "error", f"the test could not run ({type(exc).__name__}: {_first_line(str(exc))})"


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:MAX_MESSAGE]


def _relative(path: str, base: Path) -> str:
    """A nodeid's file, relative to the tests folder (pytest gives it relative to rootdir)."""
    candidate = Path(path)
    if not candidate.is_absolute():
        return candidate.as_posix()
    try:
        return candidate.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return candidate.name


def run_tests(
    files: list[Path],
    bridge: Bridge,
    context: dict[str, Any],
    base: Path,
    extra_args: Sequence[str] = (),
) -> tuple[list[TestOutcome], float]:
    """Run the given test files against the kernel; return outcomes and seconds taken.

    Raises :class:`~grader.testing.failures.TestsDidNotRun` when pytest could not run
    them (its configuration, a plugin, a test file that does not import). ``extra_args``
    are added to pytest's command line; grading passes none. The in-notebook check
    passes :data:`IN_KERNEL_ARGS`.
    """
    plugin = GraderPlugin(bridge, context, base)
    args = [
        *(str(f) for f in files),
        "-c",
        str(PYTEST_INI),
        "--rootdir",
        str(base),
        "--confcutdir",
        str(base),
        "--import-mode=importlib",
        "--assert=plain",
        # Only the grader's own plugin: whatever pytest plugins the instructor's environment
        # has installed (randomly, xdist, cov) would change how tests run, and scanning
        # their entry points costs ~0.05 s per submission.
        "--disable-plugin-autoload",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        # Its per-test garbage collection costs ~0.05 s a run and reports nothing we use.
        "-p",
        "no:unraisableexception",
        "-q",
        *extra_args,
    ]
    started = time.perf_counter()
    forget_test_modules(base)
    # A host process that is itself pytest (our own test suite) leaves its assertion
    # rewriter on sys.meta_path; it would rewrite assignment tests despite --assert=plain
    # and put test expressions into messages. Lift it for the run.
    rewriters = [h for h in sys.meta_path if type(h).__name__ == "AssertionRewritingHook"]
    printed = io.StringIO()
    with redirect_stdout(printed), redirect_stderr(printed):
        previous = os.environ.pop("PYTEST_ADDOPTS", None)
        for hook in rewriters:
            sys.meta_path.remove(hook)
        try:
            exit_code = pytest.main(args, plugins=[plugin])
        finally:
            sys.meta_path[0:0] = rewriters
            if previous is not None:
                os.environ["PYTEST_ADDOPTS"] = previous
            forget_test_modules(base)
    check_started(exit_code, printed.getvalue(), plugin.collection_errors)
    return list(plugin.outcomes.values()), time.perf_counter() - started


def forget_test_modules(base: Path) -> None:
    """Drop modules imported from test files under ``base`` (and their parent stubs).

    pytest's importlib mode names a test module after its path relative to the rootdir
    (``public.test_basics``) and reuses any module already imported under that name, so
    without this a second assignment with the same file layout would run the first
    assignment's tests.
    """
    root = str(base.resolve())
    doomed = set()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.startswith(root):
            doomed.add(name)
    # Parent modules pytest inserted for dotted names (``public`` for ``public.x``).
    parents = {name.rsplit(".", 1)[0] for name in doomed if "." in name}
    for name in parents:
        module = sys.modules.get(name)
        if module is not None and not getattr(module, "__file__", None):
            doomed.add(name)
    for name in doomed:
        sys.modules.pop(name, None)
