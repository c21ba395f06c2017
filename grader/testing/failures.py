"""When the grader's own test machinery fails, say so: never score it as the student's zero.

pytest can fail to run an assignment's tests for reasons that have nothing to do with the
submission: its configuration is missing or wrong, a plugin does not load, a test file does
not import. Scored as usual, every criterion would read "not run" and the student would get
0 with exit status 0. Instead the run raises :class:`TestsDidNotRun`; the pipeline turns it
into ``grading_error`` (prefixed with :data:`~grader.errors.TESTS_DID_NOT_RUN`) and the
commands exit non-zero with its one line.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from grader.errors import TESTS_DID_NOT_RUN, GraderError
from grader.results import TestOutcome
from grader.rubric import Criterion
from grader.scoring import outcomes_for

#: pytest's exit codes that mean it never ran the tests as asked.
BROKEN_RUNS = {
    pytest.ExitCode.INTERRUPTED: "pytest was interrupted",
    pytest.ExitCode.INTERNAL_ERROR: "pytest hit an internal error",
    pytest.ExitCode.USAGE_ERROR: "pytest could not start",
}
MAX_REASON = 400


class TestsDidNotRun(GraderError):
    """The tests could not be run at all: a grader or course fault, not the student's."""

    __test__ = False  # a class named Test* in a module pytest may collect: not a test

    def __init__(self, reason: str) -> None:
        super().__init__(f"{TESTS_DID_NOT_RUN}: {reason}"[: MAX_REASON + 40])


def check_started(exit_code: int, output: str, collection_errors: list[str]) -> None:
    """Raise :class:`TestsDidNotRun` when pytest did not get as far as running tests.

    ``output`` is what pytest printed (stdout and stderr), searched for its own reason;
    ``collection_errors`` are the test files that did not import, with their exception.
    """
    if collection_errors:
        raise TestsDidNotRun(f"a test file does not import: {collection_errors[0]}")
    if exit_code in BROKEN_RUNS:
        why = BROKEN_RUNS[pytest.ExitCode(exit_code)]
        detail = pytest_reason(output)
        raise TestsDidNotRun(f"{why} (exit {int(exit_code)}): {detail}" if detail else why)


def pytest_reason(output: str) -> str:
    """The line of pytest's output that says what went wrong, with the exception it shows.

    ``ERROR: ImportError while loading conftest '...'`` and ``E   RuntimeError: boom``
    become one line; pytest's usage banner and its ``ERROR:`` prefixes are left out.
    """
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    said = next(
        (ln for ln in lines if "error" in ln.lower() and "usage:" not in ln.lower()),
        lines[-1] if lines else "",
    )
    for prefix in ("ERROR:", "INTERNALERROR>"):
        said = said.removeprefix(prefix).strip()
    said = said.rpartition(": error: ")[2] or said  # "pytest.main(): error: unrecognized ..."
    raised = [ln[1:].strip() for ln in output.splitlines() if ln.startswith("E ")]
    if raised and raised[-1] not in said:
        said = f"{said} {raised[-1]}"
    return said[:MAX_REASON]


def collection_error(nodeid: str, longrepr: object) -> str:
    """``file: Exception: message`` from a failed collection report (the last ``E`` line)."""
    text = str(longrepr)
    raised = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("E ")]
    last = raised[-1] if raised else (text.strip().splitlines() or ["?"])[-1]
    return f"{nodeid}: {last}"[:MAX_REASON]


def check_every_criterion_ran(criteria: Iterable[Criterion], outcomes: list[TestOutcome]) -> None:
    """Raise when a criterion got no outcome at all while the kernel was alive.

    Every collected test reports an outcome, even one that did not run because the kernel
    had stopped ("not run"). A criterion with none means pytest never reached its tests.
    """
    silent = [
        c.id
        for c in criteria
        if not c.manual and not any(outcomes_for(t, outcomes) for t in c.tests)
    ]
    if silent:
        raise TestsDidNotRun(
            f"pytest ran none of the tests of {', '.join(silent)} although the kernel was alive"
        )
