"""What each example submission should score: ``examples/submissions/NAME/EXPECTED.yaml``.

An example with a mistake fails the criterion its mistake targets on every machine. The
consequences of the mistake (a training run that goes astray, an accuracy band missed)
can land either way on another CPU, so an exact list of failing criteria would fail a
landing at random. The file therefore says what *must* fail, what *may also* fail, and
the score's range. A correct example gets full marks with no tolerance.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

FILE_NAME = "EXPECTED.yaml"


class ScoreRange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: float = Field(ge=0)
    max: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> ScoreRange:
        if self.min > self.max:
            raise ValueError(f"score range {self.min}..{self.max} is empty")
        return self


class Expectation(BaseModel):
    """One example notebook's expected verdict (points without GPU criteria)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    must_fail: list[str] = Field(default_factory=list)
    may_also_fail: list[str] = Field(default_factory=list)
    score: float | ScoreRange
    why: str = ""

    @property
    def correct(self) -> bool:
        return not self.must_fail and not self.may_also_fail

    def problems(self, failing: set[str], score: float, full_marks: float) -> list[str]:
        """What in a graded verdict contradicts this expectation (empty: it holds)."""
        found = []
        if self.correct and (failing or abs(score - full_marks) > 1e-9):
            return [f"a correct example got {score:g}/{full_marks:g}, failing {sorted(failing)}"]
        if missing := set(self.must_fail) - failing:
            found.append(f"{sorted(missing)} should fail but passed")
        if extra := failing - set(self.must_fail) - set(self.may_also_fail):
            found.append(f"{sorted(extra)} failed, which this mistake does not explain")
        low, high = (
            (self.score.min, self.score.max)
            if isinstance(self.score, ScoreRange)
            else (self.score, self.score)
        )
        if not low - 1e-9 <= score <= high + 1e-9:
            found.append(f"score {score:g} outside {low:g}..{high:g}")
        return found


class Expectations(BaseModel):
    """A lab's ``EXPECTED.yaml``: the full marks without GPU criteria, and every example."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    full_marks: float
    examples: dict[str, Expectation]


def load_expectations(folder: Path) -> Expectations:
    """Read ``folder/EXPECTED.yaml`` (an assignment's example submissions)."""
    path = folder / FILE_NAME
    return Expectations.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
