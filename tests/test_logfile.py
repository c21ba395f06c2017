"""Library noise and kernel output go to the run's log file, not the terminal (issue 19)."""

from __future__ import annotations

import logging
import os
import warnings

import pytest

from grader import logfile
from grader.testing.live import live_notebook

NOISY_CELL = (
    "import sys, os\n"
    "print('banner on stderr', file=sys.__stderr__, flush=True)\n"
    "os.write(2, b'raw C-level line\\n')"
)


@pytest.fixture
def routed(tmp_path, monkeypatch):
    monkeypatch.delenv(logfile.LOG_ENV, raising=False)
    handlers = logging.getLogger().handlers[:]
    path = logfile.route_to(tmp_path / "out")
    yield path
    logfile.unroute()
    assert logfile.LOG_ENV not in os.environ and logging.getLogger().handlers == handlers


def test_warnings_and_logging_land_in_the_file(routed, capsys):
    with warnings.catch_warnings():  # pytest records warnings itself: route them as the CLI does
        logging.captureWarnings(True)
        warnings.simplefilter("always")
        warnings.warn("DuplicateCellId: Non-unique cell id", stacklevel=1)
    logging.getLogger("asyncio").error("Task exception was never retrieved")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = routed.read_text()
    assert "Non-unique cell id" in text and "Task exception was never retrieved" in text
    said = capsys.readouterr()
    assert "Non-unique" not in said.out + said.err
    assert os.environ[logfile.LOG_ENV] == str(routed)


def test_kernel_stderr_goes_to_the_log(routed, capfd):
    with live_notebook([NOISY_CELL]) as (_nb, run):
        assert not run.execution.errors
    text = routed.read_text()
    assert "banner on stderr" in text and "raw C-level line" in text
    assert "banner on stderr" not in capfd.readouterr().err


def test_without_a_log_kernels_keep_their_output(monkeypatch):
    monkeypatch.delenv(logfile.LOG_ENV, raising=False)
    assert logfile.kernel_output() == {}
