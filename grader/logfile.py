"""One log file per grading run for what the terminal should not show.

Library warnings (nbformat's cell ids, asyncio's "Task exception was never retrieved"),
kernel stderr and framework banners are not a student's failure and not the grader's
either; on the terminal an instructor cannot tell them from real problems. `grader grade`
and `grader batch` route them to ``OUT/grader.log`` and print its path once: the terminal
keeps the progress bar, the table and one-line problems.

The path travels in :data:`LOG_ENV`, so Dask worker processes started by the command
(and the kernels they start) write to the same file.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import IO, Any

LOG_ENV = "DLGRADER_LOG"
FILE_NAME = "grader.log"


class _LazyFileHandler(logging.FileHandler):
    """A file handler that creates its folder (and the file) on the first message only:
    a command that stops before grading anything leaves no output folder behind."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8", delay=True)

    def _open(self):  # noqa: ANN202 - logging's
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


def route_to(out: Path) -> Path:
    """Send this process's logging and warnings, and its kernels' output, to ``out/grader.log``.

    :func:`unroute` puts things back; a command run inside another program (a test, a
    notebook) should call it when it ends, so the next command starts clean.
    """
    path = (out / FILE_NAME).resolve()
    root = logging.getLogger()
    _saved.append((os.environ.get(LOG_ENV), root.handlers[:], root.level))
    os.environ[LOG_ENV] = str(path)
    _log_to(path)
    return path


_saved: list[tuple[str | None, list[logging.Handler], int]] = []


def unroute() -> None:
    """Undo the last :func:`route_to`: environment, logging handlers, warnings capture."""
    if not _saved:
        return
    previous, handlers, level = _saved.pop()
    root = logging.getLogger()
    for handler in root.handlers:
        handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)
    if previous is None:
        os.environ.pop(LOG_ENV, None)
    else:
        os.environ[LOG_ENV] = previous


def _log_to(path: Path) -> None:
    handler = _LazyFileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.captureWarnings(True)


def kernel_output() -> dict[str, Any]:
    """``stdout``/``stderr`` for a kernel process: the log file when one is set, else none."""
    path = os.environ.get(LOG_ENV)
    if not path:
        return {}
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handle: IO[bytes] = open(path, "ab")  # noqa: SIM115 - the kernel process keeps it
    except OSError:
        return {}
    return {"stdout": handle, "stderr": handle}


def adopt_in_worker() -> None:
    """In a batch worker process: everything it and its children print goes to the log.

    A worker has no terminal of its own to keep: its file descriptor 2 (Python's stderr,
    asyncio's tracebacks, TensorFlow's C++ banners) is pointed at the log file.
    """
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError:
        return  # a remote worker without the client's folders keeps its own stderr
    sys.stderr.flush()
    os.dup2(fd, 2)
    os.close(fd)
    _log_to(Path(path))
