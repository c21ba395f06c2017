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
