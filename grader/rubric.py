"""Rubrics: which tests make up each criterion, what it is worth, and how it scores.

A rubric is ``rubrics/<assignment>.yaml``. Loading it checks that every test it
names exists (a typo would otherwise turn into a silent zero for the whole
class). Scoring is a pure function of test outcomes, so it is easy to test and
to re-run from a stored results file.

A criterion that needs a GPU, graded where none exists, is never a silent zero
and never a silent pass: per the rubric it is either *excluded* (its points
leave the maximum) or *pending* (its points are withheld until graded on a GPU).

A *manual* criterion (a viva, a write-up) is marked by a person with ``grader mark``;
grading leaves it *pending* the same way, in the maximum but not yet in the points,
until its mark arrives (:mod:`grader.marks` adds marks to a result).
"""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from grader import safe_ast
from grader.errors import ConfigError
from grader.results import Level, Visibility

GpuPolicy = Literal["exclude", "pending"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Feedback(Strict):
    passed: str = Field(alias="pass", description="Shown when the criterion earns all its points.")
    failed: str = Field(
        alias="fail", description="Shown otherwise: failed, partial credit, error or not run."
    )


class Band(Strict):
    """A partial-credit band: a bound on the measured value and the fraction it earns."""

    at_least: float | None = Field(
        None, description="The band is met by a value at least this (higher is better)."
    )
    at_most: float | None = Field(
        None, description="The band is met by a value at most this (lower is better)."
    )
    fraction: float = Field(
        ge=0, le=1, description="The fraction of the criterion's points the band earns."
    )

    @model_validator(mode="after")
    def _one_bound(self) -> Band:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("a band needs exactly one of at_least or at_most")
        return self

    def met_by(self, value: float) -> bool:
        # Comparisons are written so that NaN meets no band.
        if self.at_least is not None:
            return value >= self.at_least
        return value <= self.at_most  # type: ignore[operator]


class Criterion(Strict):
    id: str = Field(
        pattern=r"^[a-z0-9_]+$",
        description="Unique in the rubric; exports, `grader check` and `grader mark` use it.",
    )
    name: str = Field(description="What students read in reports and exports.")
    points: float = Field(gt=0, description="What the criterion is worth.")
    tests: list[str] = Field(
        default_factory=list,
        description="Test ids under `assignments/NAME/tests/`: `hidden/test_x.py::test_y` or "
        "`hidden/test_x.py::TestClass::test_y`; each must exist. Passed when every outcome of "
        "them passed (every case of a parametrized test). A criterion whose tests are all under "
        "`public/` is a student check. Required unless `manual`.",
    )
    visibility: Visibility = Field(
        "visible",
        description="What students see: `visible` everything; `hidden` name, status, points "
        "and feedback; `after_due_date` only the name (in the student report always; in "
        "exports until `grader export --released`). The instructor report shows everything.",
    )
    feedback: Feedback | None = Field(
        None,
        description="What students read when the criterion passes or not. Required unless "
        "`manual`.",
    )
    student_code: bool = Field(
        True,
        description="Needs code the student writes: `grader validate` requires the stub to "
        "fail it. False for what the stub passes as given; always false when `manual`.",
    )
    score_from: str | None = Field(
        None,
        description="A value a test records with `nb.record(key, value)`, scored by `bands`. "
        "Goes with `bands`.",
    )
    bands: dict[str, list[Band]] | None = Field(
        None,
        description="Partial credit per data tier (`offline`, `full`; a tier without bands "
        "uses `offline`'s): the first band the `score_from` value meets gives its fraction of "
        "the points; none met gives 0. Goes with `score_from`.",
    )
    requires_gpu: bool = Field(
        False,
        description="Graded only on a GPU; without one it is excluded or pending (per "
        "`gpu_policy`), never 0.",
    )
    gpu_policy: GpuPolicy | None = Field(
        None, description="This criterion's own `exclude` or `pending`; default: the rubric's."
    )
    manual: bool = Field(
        False,
        description="Marked by a person with `grader mark` (a viva, a write-up): no tests or "
        "feedback; pending until marked ([marks.md](../marks.md)).",
    )
    levels: list[Level] | None = Field(
        None,
        description="A manual criterion's levels: what each mark stands for. They must differ "
        "and not exceed `points`; the highest level a mark reaches is its feedback.",
    )

    @model_validator(mode="before")
    @classmethod
    def _manual_needs_no_student_code(cls, data: object) -> object:
        # A person marks it, so `grader validate` cannot expect the stub to fail it.
        if isinstance(data, dict) and data.get("manual") is True:
            data = {"student_code": False, **data}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Criterion:
        if (self.bands is None) != (self.score_from is None):
            raise ValueError("score_from and bands go together")
        if self.manual:
            self._check_manual()
        else:
            if not self.tests:
                raise ValueError("a criterion needs tests, or `manual: true` for a person to mark")
            if self.feedback is None:
                raise ValueError("a criterion graded by tests needs feedback (pass and fail)")
            if self.levels is not None:
                raise ValueError("levels are for manual criteria (`manual: true`)")
        return self

    def _check_manual(self) -> None:
        given = [
            key
            for key, value in (
                ("tests", self.tests),
                ("bands", self.bands),
                ("requires_gpu", self.requires_gpu),
                ("gpu_policy", self.gpu_policy),
                ("student_code", self.student_code),
            )
            if value
        ]
        if given:
            raise ValueError(f"a manual criterion is marked by a person: drop {', '.join(given)}")
        points = [level.points for level in self.levels or []]
        if any(p > self.points for p in points):
            raise ValueError(f"a level is worth more than the criterion's {self.points:g} points")
        if len(set(points)) != len(points):
            raise ValueError("two levels have the same points")

    def level_for(self, points: float) -> Level | None:
        """The highest level the points reach (its text says what they stand for)."""
        reached = [lv for lv in self.levels or [] if lv.points <= points + 1e-9]
        return max(reached, key=lambda lv: lv.points, default=None)


class Rubric(Strict):
    assignment: str = Field(
        description="The assignment this rubric grades: must equal its folder name."
    )
    gpu_policy: GpuPolicy = Field(
        "exclude",
        description="What `requires_gpu` criteria graded without a GPU become, unless a "
        "criterion says otherwise: `exclude` (their points leave the maximum) or `pending` "
        "(withheld until graded on a GPU). Never a silent 0.",
    )
    total: float | None = Field(
        None,
        description="The assignment's total, as a check: it must equal the sum of the "
        "criteria's points.",
    )
    criteria: list[Criterion] = Field(
        min_length=1,
        description="The criteria, in the order reports show them (students' checks are "
        "numbered q1, q2, ... in this order).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        ids = [c.id for c in self.criteria]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"duplicate criterion ids: {', '.join(sorted(duplicates))}")
        if self.total is not None and not math.isclose(self.total, self.max_points):
            raise ValueError(
                f"total is {self.total:g} but the criteria add up to {self.max_points:g}"
            )
        return self

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.criteria)

    @property
    def manual_criteria(self) -> list[Criterion]:
        return [c for c in self.criteria if c.manual]

    def criterion(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)

    def test_files(self, public_only: bool = False) -> set[str]:
        files = {t.partition("::")[0] for c in self.criteria for t in c.tests}
        return {f for f in files if f.startswith("public/")} if public_only else files


def load_rubric(path: Path, tests_root: Path) -> Rubric:
    """Load and validate a rubric; every test it names must exist under ``tests_root``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no rubric file; create it (see docs/rubrics.md)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_first_errors(exc)}") from None
    missing = [t for c in rubric.criteria for t in c.tests if not _test_exists(tests_root, t)]
    if missing:
        raise ConfigError(
            f"{path}: names tests that do not exist under {tests_root}: {', '.join(missing)}"
        )
    return rubric


def _first_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(parts)


def _test_exists(tests_root: Path, node_id: str) -> bool:
    file, _, name = node_id.partition("::")
    path = tests_root / file
    if not name or not path.is_file() or ".." in Path(file).parts:
        return False
    return name in defined_tests(path)


def defined_tests(path: Path) -> set[str]:
    """Test names defined in a file: functions, and ``Class::method`` for test classes."""
    tree = safe_ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                    names.add(f"{node.name}::{item.name}")
    return names
