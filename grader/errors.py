"""Errors that stop grading itself (as opposed to a submission's own failures).

Each carries a message meant for the person at the terminal: it names the file
and says what to do. The CLI prints it on one line and exits non-zero.
"""

from __future__ import annotations


class GraderError(Exception):
    """Grading could not happen; the message says why and what to do."""

    exit_code = 2


class ConfigError(GraderError):
    """A course file (assignment.yaml, rubric, template) is missing or invalid."""


class SubmissionError(GraderError):
    """A submission file cannot be read as a notebook."""

    exit_code = 3


class MachineError(GraderError):
    """This machine cannot run kernels as asked (no Docker engine, no image, no sandbox)."""

    exit_code = 4


#: How ``grading_error`` begins when the grader's own tests could not run (a broken pytest
#: configuration, a test file that does not import): a grader or course fault, never a score.
TESTS_DID_NOT_RUN = "the grader's test machinery failed"
#: How ``grading_error`` begins when no kernel could be started or driven.
NOT_RUNNABLE = "the notebook could not be run"


def grading_error_exit_code(grading_error: str) -> int:
    """The exit code a command gives a result whose ``grading_error`` says this.

    2 the tests or course files are at fault, 4 this machine could not run the notebook,
    3 the submission could not be read.
    """
    if grading_error.startswith(TESTS_DID_NOT_RUN):
        return ConfigError.exit_code
    if grading_error.startswith(NOT_RUNNABLE):
        return MachineError.exit_code
    return SubmissionError.exit_code
