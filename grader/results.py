"""The results document: one versioned JSON file per graded submission.

Everything downstream (reports, exports, the class gradebook) reads this model
and nothing else, so a new export never has to know how grading ran. Its JSON
Schema is published at ``docs/results.schema.json`` (``grader schema`` writes it).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.1"  # 1.1: marks a person gives (manual criteria, overrides)

Visibility = Literal["visible", "hidden", "after_due_date"]
CriterionStatus = Literal[
    "passed",  # full points
    "partial",  # a band below full credit
    "failed",  # the answer was wrong, or the student's code raised or did not finish in time
    "error",  # the test itself could not run (a fixture or grader-side problem): not the answer
    "not_run",  # the kernel had stopped before this criterion's tests ran
    "needs_gpu",  # no GPU here; excluded from the total or pending, per the rubric
    "pending",  # a criterion a person marks (viva, write-up), not marked yet
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CellError(Model):
    """An exception raised by one notebook cell, as the student should see it."""

    cell: int = Field(description="1-based position of the cell in the notebook.")
    execution_count: int | None = Field(None, description="Its execution count in this run.")
    ename: str = Field(description="The exception's class name.")
    evalue: str = Field(description="The exception's message.")
    traceback: str = Field("", description="The traceback, as text (capped).")
    source: str = Field("", description="The first lines of the cell, to find it.")


class Figure(Model):
    """A PNG the notebook drew, saved beside the report."""

    cell: int = Field(description="The cell that drew it (1-based position).")
    path: str = Field(description="The PNG file, relative to the report.")
    width: int = Field(description="Width in pixels.")
    height: int = Field(description="Height in pixels.")


class SkippedCell(Model):
    """A cell left out when the notebook was run again, and why."""

    cell: int = Field(description="The cell's number (1-based, as the report numbers cells).")
    reason: str = Field(description="What it did: killed the kernel, or would not stop.")


class Execution(Model):
    cells_total: int = Field(description="Code cells in the notebook.")
    cells_run: int = Field(description="Code cells that ran.")
    duration_s: float = Field(description="Seconds running the notebook took.")
    stopped_at_cell: int | None = Field(None, description="Cell at which the kernel stopped.")
    stop_reason: str | None = Field(
        None,
        description="Why the kernel stopped (a cell that would not stop, the kernel died), "
        "when it did.",
    )
    errors: list[CellError] = Field(
        default_factory=list, description="Every cell that raised, in order."
    )
    figures: list[Figure] = Field(default_factory=list, description="Images the notebook drew.")
    skipped_cells: list[SkippedCell] = Field(
        default_factory=list,
        description="Cells left out of a replay: each killed the kernel or would not stop, so "
        "the notebook ran again in a fresh kernel without it (`recovery` in assignment.yaml).",
    )

    @property
    def kernel_alive(self) -> bool:
        return self.stopped_at_cell is None


class TestOutcome(Model):
    """One pytest test as the grader's plugin saw it."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    file: str
    outcome: Literal["passed", "failed", "error", "skipped"]
    message: str = ""
    needs_gpu: bool = False
    not_run: bool = False
    measured: dict[str, Any] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    duration_s: float = 0.0


class Level(Model):
    """One level of a criterion a person marks: its points and what earns them."""

    points: float = Field(
        ge=0, description="The points of this level, from 0 to the criterion's points."
    )
    text: str = Field(
        description="What earns them; students read it as the feedback of their mark."
    )


class ManualMark(Model):
    """Points a person gave: a mark on a manual criterion, or an override of the machine's."""

    points: float = Field(description="The points given.")
    comment: str = Field("", description="Why, as the person wrote it.")
    by: str = Field(description="Who gave the mark (the OS user, or `grader mark --by`).")
    at: str = Field(description="When, as an ISO 8601 time.")
    sha256: str = Field(description="The notebook the mark was given for.")
    review: bool = Field(
        False,
        description="The notebook changed since the mark was given: it still counts, but "
        "the instructor should confirm it or mark again.",
    )


class MachineVerdict(Model):
    """The automatic verdict an instructor's override replaced, kept beside it."""

    status: CriterionStatus = Field(description="The tests' status.")
    points: float = Field(description="The tests' points.")
    feedback: str = Field(description="The tests' feedback.")
    detail: str = Field("", description="The tests' detail.")


class CriterionResult(Model):
    id: str = Field(description="The rubric criterion's id.")
    name: str = Field(description="Its name.")
    tests: list[str] = Field(description="The test ids it was graded by.")
    status: CriterionStatus = Field(
        description="What happened ([statuses](../reports.md)). `failed` covers a wrong "
        "answer and student code that raised or did not finish in time; `error` means the "
        "test itself could not run (a grader-side problem, not the answer)."
    )
    points: float = Field(description="Points earned.")
    max_points: float = Field(description="Its points in the rubric.")
    counts_toward_total: bool = Field(
        True,
        description="False when it was excluded from the maximum (a GPU criterion graded "
        "without a GPU, `gpu_policy: exclude`).",
    )
    pending: bool = Field(
        False, description="Its points are withheld: waiting for a GPU or for a mark."
    )
    feedback: str = Field(description="The rubric's pass or fail text (or why it is pending).")
    detail: str = Field("", description="What the tests said: the measured value, the error.")
    measured: dict[str, Any] = Field(
        default_factory=dict,
        description="Values the tests recorded with `nb.record` (hidden from students for "
        "`hidden` criteria).",
    )
    visibility: Visibility = Field(
        "visible", description="The rubric's visibility of the criterion."
    )
    requires_gpu: bool = Field(False, description="The rubric says it needs a GPU.")
    manual: bool = Field(False, description="Marked by a person (viva, write-up), not by tests.")
    levels: list[Level] = Field(
        default_factory=list, description="A manual criterion's levels, lowest first."
    )
    mark: ManualMark | None = Field(
        None, description="A person's mark, or their override of an automatic criterion."
    )
    machine: MachineVerdict | None = Field(
        None, description="Under an override: what the tests had decided."
    )


class Score(Model):
    points: float = Field(description="Points earned; pending and excluded criteria add nothing.")
    max_points: float = Field(
        description="The maximum: every criterion that counts toward the total, pending "
        "ones included, excluded ones not."
    )
    pending_points: float = Field(
        0.0,
        description="Points withheld: until graded on a GPU, or until a person marks them.",
    )
    pending_manual_points: float = Field(
        0.0, description="Of pending_points, those waiting for a person's mark (viva, write-up)."
    )
    excluded_points: float = Field(0.0, description="Points dropped because no GPU was there.")

    @property
    def percent(self) -> float:
        return 100.0 * self.points / self.max_points if self.max_points else 0.0


class Submission(Model):
    path: str = Field(description="The notebook's path as given to the grader.")
    name: str = Field(description="Its file name.")
    sha256: str = Field(
        description="SHA-256 of its bytes: which version of the notebook was graded."
    )
    size_bytes: int = Field(description="Its size in bytes.")


class Environment(Model):
    python: str = Field(description="Python version of the grader.")
    platform: str = Field(description="Operating system and machine.")
    grader_version: str = Field(description="dlgrader's version.")
    packages: dict[str, str] = Field(
        default_factory=dict, description="Versions of the numeric libraries installed."
    )
    device: str = Field(
        "cpu", description="`cuda` when a GPU was available to the notebook, else `cpu`."
    )
    gpu_available: bool = Field(False, description="Whether a GPU was available to the notebook.")
    runner: str = Field("local", description="`local` or `docker`.")
    sandbox: str = Field(
        "none",
        description="How the kernel was confined: `bubblewrap`, `unshare`, `none`, or `docker`.",
    )
    network_blocked: bool = Field(False, description="The kernel had no network.")
    filesystem_private: bool = Field(
        False, description="The kernel could not see the course folder or other submissions."
    )
    memory_limit_mb: int | None = Field(None, description="The memory limit enforced, in MiB.")
    cpu_limit_s: int | None = Field(None, description="The CPU-time limit enforced, in seconds.")
    process_limit: int | None = Field(None, description="The process and thread limit enforced.")
    disk_limit_mb: int | None = Field(None, description="The disk space limit enforced, in MiB.")
    numerics: dict[str, Any] = Field(
        default_factory=dict,
        description="How the kernel computed: `seed`, `threads`, the instruction-set level "
        "`isa` pinned (`native` where none was), the generators seeded, and the environment "
        "`variables` set (`docs/calibration.md`).",
    )


class Timings(Model):
    total_s: float = Field(description="Seconds for the whole grading.")
    execute_s: float = Field(description="Seconds running the notebook.")
    tests_s: float = Field(description="Seconds running the tests.")


class GradingResult(Model):
    """The whole record of grading one submission."""

    schema_version: Literal["1.0", "1.1"] = Field(
        SCHEMA_VERSION, description="Version of this document's format."
    )
    assignment: str = Field(description="The assignment's name.")
    assignment_title: str = Field(description="The assignment's title.")
    mode: Literal["grade", "check"] = Field(
        "grade",
        description="`grade` (all tests, `grader grade` and `grader batch`) or `check` "
        "(public tests only, a student's `grader check`).",
    )
    submission: Submission = Field(description="The notebook that was graded.")
    graded_at: str = Field(description="When, as an ISO 8601 time.")
    data_tier: str | None = Field(
        None,
        description="`full` or `offline`: the data the notebook was graded on; null for an "
        "assignment without a dataset.",
    )
    score: Score = Field(description="The points, the maximum, and what is pending or excluded.")
    criteria: list[CriterionResult] = Field(
        description="One result per rubric criterion, in the rubric's order."
    )
    execution: Execution | None = Field(
        None, description="How running the notebook went; null when it could not start."
    )
    environment: Environment = Field(
        description="Where it was graded: versions, device, sandbox, limits."
    )
    timings: Timings = Field(description="How long grading took.")
    warnings: list[str] = Field(
        default_factory=list,
        description="What weakened grading (a missing sandbox, a limit that could not be "
        "enforced); shown in every report.",
    )
    flags: list[str] = Field(
        default_factory=list,
        description="Signs of tampering or a misfiled notebook, for the instructor's eyes only.",
    )
    viva_questions: list[str] = Field(
        default_factory=list,
        description="The assignment's viva questions, for the instructor's report.",
    )
    grading_error: str | None = Field(
        None, description="Why grading could not finish; the criteria say what was not run."
    )
    not_gradable: bool = Field(
        False,
        description="The file itself cannot be graded (not a notebook, unreadable, an archive "
        "that cannot be unpacked safely): a zero row with `grading_error` as its reason, "
        "not a score the student earned.",
    )

    @property
    def marks_for_review(self) -> list[CriterionResult]:
        """Criteria whose mark was given for another version of the notebook."""
        return [c for c in self.criteria if c.mark is not None and c.mark.review]

    @property
    def pending_manual(self) -> list[CriterionResult]:
        """Manual criteria nobody has marked yet."""
        return [c for c in self.criteria if c.manual and c.pending]


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of :class:`GradingResult`."""
    schema = GradingResult.model_json_schema()
    schema["$id"] = f"https://dlgrader.dev/schema/results-{SCHEMA_VERSION}.json"
    schema["title"] = "dlgrader results"
    return schema
