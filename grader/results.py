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
    "failed",  # the test ran and the answer was wrong
    "error",  # the test could not measure (student code raised, timed out)
    "not_run",  # the kernel had stopped before this criterion's tests ran
    "needs_gpu",  # no GPU here; excluded from the total or pending, per the rubric
    "pending",  # a criterion a person marks (viva, write-up), not marked yet
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CellError(Model):
    """An exception raised by one notebook cell, as the student should see it."""

    cell: int = Field(description="1-based position of the cell in the notebook.")
    execution_count: int | None = None
    ename: str
    evalue: str
    traceback: str = ""
    source: str = Field("", description="The first lines of the cell, to find it.")


class Figure(Model):
    """A PNG the notebook drew, saved beside the report."""

    cell: int
    path: str
    width: int
    height: int


class Execution(Model):
    cells_total: int
    cells_run: int
    duration_s: float
    stopped_at_cell: int | None = Field(None, description="Cell at which the kernel stopped.")
    stop_reason: str | None = None
    errors: list[CellError] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)

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
    duration_s: float = 0.0


class Level(Model):
    """One level of a criterion a person marks: its points and what earns them."""

    points: float = Field(ge=0)
    text: str


class ManualMark(Model):
    """Points a person gave: a mark on a manual criterion, or an override of the machine's."""

    points: float
    comment: str = ""
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

    status: CriterionStatus
    points: float
    feedback: str
    detail: str = ""


class CriterionResult(Model):
    id: str
    name: str
    tests: list[str]
    status: CriterionStatus
    points: float
    max_points: float
    counts_toward_total: bool = True
    pending: bool = False
    feedback: str
    detail: str = Field("", description="What the tests said: the measured value, the error.")
    measured: dict[str, Any] = Field(default_factory=dict)
    visibility: Visibility = "visible"
    requires_gpu: bool = False
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
    points: float
    max_points: float
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
    path: str
    name: str
    sha256: str
    size_bytes: int


class Environment(Model):
    python: str
    platform: str
    grader_version: str
    packages: dict[str, str] = Field(default_factory=dict)
    device: str = "cpu"
    gpu_available: bool = False
    runner: str = "local"
    sandbox: str = "none"
    network_blocked: bool = False
    filesystem_private: bool = False
    memory_limit_mb: int | None = None
    cpu_limit_s: int | None = None
    process_limit: int | None = None
    disk_limit_mb: int | None = None


class Timings(Model):
    total_s: float
    execute_s: float
    tests_s: float


class GradingResult(Model):
    """The whole record of grading one submission."""

    schema_version: Literal["1.0", "1.1"] = SCHEMA_VERSION
    assignment: str
    assignment_title: str
    mode: Literal["grade", "check"] = "grade"
    submission: Submission
    graded_at: str
    data_tier: str | None = None
    score: Score
    criteria: list[CriterionResult]
    execution: Execution | None = None
    environment: Environment
    timings: Timings
    warnings: list[str] = Field(default_factory=list)
    flags: list[str] = Field(
        default_factory=list,
        description="Signs of tampering or a misfiled notebook, for the instructor's eyes only.",
    )
    viva_questions: list[str] = Field(default_factory=list)
    grading_error: str | None = Field(
        None, description="Why grading could not finish; the criteria say what was not run."
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
