"""The ``grader`` command: one group, one module per command group.

Each module (``grading``, ``course``, ``scaffold``, ``check``, ``batch``, ``mark``,
``export``, ``doctor``) defines its commands and a ``register(group)``; they share
:mod:`grader.cli.common`. Thin: parse, call the library, show, choose the exit code.

Exit codes: 0 grading completed (whatever the score); 1 ``validate`` found a
problem; 2 the course or its files are wrong; 3 a submission could not be read;
4 the notebook could not be run at all (no kernel). When the grader's own tests could not
run (a broken pytest configuration, a test file that does not import) the exit code is 2:
that is never scored as the student's zero.
"""

from __future__ import annotations

import gc
import sys

from grader.batch import local_workers

if local_workers.wanted(sys.argv[1:]):
    # Before the command modules' imports (0.5-0.8 s), which the server's run beside.
    local_workers.start_server()

import click  # noqa: E402 - after the server's start, on purpose

from grader import __version__  # noqa: E402
from grader.cli import (  # noqa: E402
    batch,
    check,
    course,
    doctor,
    export,
    grading,
    mark,
    scaffold,
    serve,
)
from grader.cli.common import console  # noqa: E402
from grader.errors import GraderError  # noqa: E402


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dlgrader")
def main() -> None:
    """Grade deep-learning lab notebooks.

    Student code runs in a sandboxed Jupyter kernel; the tests, their expected values and the
    scoring run here, outside it.

    \b
    Instructors:   grader grade submissions/*.ipynb --assignment lenet5
    Students:      grader check my_lenet5.ipynb
    Course authors: grader validate lenet5
    Whole classes: grader batch submissions/ --assignment lenet5
    Platforms:     grader export --assignment lenet5 --format canvas --roster roster.csv
    """


def run() -> None:
    """Entry point that turns grader errors into one line and an exit code."""
    try:
        main(standalone_mode=True)
    except GraderError as exc:
        console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        sys.exit(exc.exit_code)
    finally:
        # The command's work is done and its files closed: the collector's passes over
        # every object at interpreter exit (Dask, rich, pydantic, matplotlib) took 0.3 s
        # of each batch's end. atexit still runs (logging flushes its files there).
        gc.freeze()


for _module in (grading, scaffold, course, batch, export, check, mark, doctor, serve):
    _module.register(main)
