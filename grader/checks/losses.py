"""Which loss a notebook uses, and which targets a step trains towards.

A binary classifier's output must suit its loss: ``nn.BCELoss`` needs probabilities (a
final Sigmoid), ``nn.BCEWithLogitsLoss`` raw scores (logits: it applies the sigmoid
itself). :func:`loss_kind` reads the notebook's loss; :func:`expect_outputs_suit_loss`
judges outputs against it. :func:`recording_loss` gives the student's step a loss that
notes its targets (probe ``torch.loss_targets``), so a test can see that a GAN's
generator step trains its fakes towards "real" (ones) without reading the code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks._common import KernelObject, as_ref, fmt_number
from grader.checks.outputs import model_outputs
from grader.probes.wire import Ref
from grader.testing.fixture import Notebook

#: torch loss classes by the name the grader's probes use for them.
LOSS_CLASSES = {
    "BCELoss": "bce",
    "BCEWithLogitsLoss": "bce_logits",
    "CrossEntropyLoss": "cross_entropy",
    "MSELoss": "mse",
}
#: How far outside [0, 1] a float32 probability may stray (none: a Sigmoid cannot).
PROBABILITY_SLACK = 1e-6


def loss_kind(nb: Notebook, loss_fn: KernelObject) -> str | None:
    """``bce``, ``bce_logits``, ``cross_entropy`` or ``mse`` for a torch loss, else None."""
    raw = nb.probe("torch.loss_kind", loss_fn=as_ref(nb, loss_fn))
    name = raw.get("class") if type(raw) is dict else None
    module = raw.get("module") if type(raw) is dict else None
    if type(name) is not str or type(module) is not str or not module.startswith("torch."):
        return None
    return nb.record("loss_kind", LOSS_CLASSES.get(name))


def expect_outputs_suit_loss(
    outputs: np.ndarray, loss: str | None, *, model: str = "the model", loss_name: str = ""
) -> None:
    """Probabilities for ``bce``; for ``bce_logits``, outputs that are not all in [0, 1].

    Give it outputs for inputs that drive a network far from zero (scaled-up random
    inputs): logits then reach well outside [0, 1], while a final Sigmoid keeps every
    value inside, so neither verdict hangs on a value near an edge.
    """
    values = np.asarray(outputs, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(values)):
        raise AssertionError(f"{model} returned NaN or infinite values")
    low, high = float(values.min()), float(values.max())
    inside = low >= -PROBABILITY_SLACK and high <= 1 + PROBABILITY_SLACK
    named = loss_name or {"bce": "nn.BCELoss", "bce_logits": "nn.BCEWithLogitsLoss"}.get(
        loss or "", "the loss"
    )
    if loss == "bce" and not inside:
        raise AssertionError(
            f"{model} returns values from {fmt_number(low)} to {fmt_number(high)}, but "
            f"{named} needs probabilities in [0, 1]: end with nn.Sigmoid(), or return "
            "logits and use nn.BCEWithLogitsLoss"
        )
    if loss == "bce_logits" and inside:
        raise AssertionError(
            f"{model} returns values in [0, 1] only, as after a Sigmoid, but {named} applies "
            "the sigmoid itself: return the last layer's raw score (a logit), or use "
            "nn.BCELoss with the Sigmoid"
        )
    if loss not in ("bce", "bce_logits"):
        raise AssertionError(
            f"the loss must be nn.BCELoss or nn.BCEWithLogitsLoss for {model}'s one output"
        )


def recording_loss(nb: Notebook, loss: str) -> Ref:
    """A loss module of the named kind that remembers every call's targets (and devices)."""
    value = nb.probe("torch.recording_loss", loss=loss)
    if not isinstance(value, Ref):
        raise RuntimeError("expected a kernel object from torch.recording_loss")
    return value


@dataclass(frozen=True)
class TargetRange:
    """The targets of one call of a recording loss."""

    low: float
    high: float
    count: int


def loss_targets(nb: Notebook, loss_fn: Ref) -> list[TargetRange]:
    """The targets each call of a :func:`recording_loss` was given, in call order."""
    raw = nb.probe("torch.loss_targets", loss_fn=loss_fn)
    if type(raw) is not list:
        raise AssertionError("could not read the loss function's targets from the kernel")
    calls = []
    for row in raw:
        if type(row) is not dict or type(row.get("count")) is not int:
            raise AssertionError("could not read the loss function's targets from the kernel")
        low, high = row.get("min"), row.get("max")
        if type(low) in (int, float) and type(high) in (int, float):
            calls.append(TargetRange(float(low), float(high), row["count"]))
        else:
            calls.append(TargetRange(math.nan, math.nan, row["count"]))
    return calls


def expect_targets(
    calls: Sequence[TargetRange], value: float, *, what: str, hint: str = ""
) -> None:
    """Every call used targets equal to ``value``, and there was at least one call."""
    if not calls:
        raise AssertionError(f"{what} never called the loss function it was given")
    wrong = [c for c in calls if c.count == 0 or not (c.low == value and c.high == value)]
    if not wrong:
        return
    first = wrong[0]
    seen = (
        "no target tensor"
        if first.count == 0 or math.isnan(first.low)
        else f"targets from {fmt_number(first.low)} to {fmt_number(first.high)}"
    )
    message = f"{what} gave the loss function {seen}, expected {fmt_number(value)} everywhere"
    raise AssertionError(f"{message}: {hint}" if hint else message)


def as_probabilities(outputs: Any, loss: str | None) -> np.ndarray:
    """Outputs as probabilities: a sigmoid of logits for ``bce_logits``, else as they are."""
    values = np.asarray(outputs, dtype=np.float64)
    if loss == "bce_logits":
        return 1.0 / (1.0 + np.exp(-np.clip(values, -60, 60)))
    return values


def binary_loss_kind(nb: Notebook, loss_fn: str, model: KernelObject, loud: np.ndarray) -> str:
    """``bce`` or ``bce_logits``: the notebook's own, or else what ``model``'s outputs suit.

    Tests of a training step hand it a loss of this kind. A notebook whose ``loss_fn`` is
    neither (graded by its own criterion) still gets its steps tested: with ``bce`` when
    its model returns probabilities for ``loud`` (scaled-up) inputs, else ``bce_logits``,
    and the detail says so.
    """
    kind = loss_kind(nb, loss_fn) if nb.exists(loss_fn) else None
    if kind in ("bce", "bce_logits"):
        return kind
    values = np.asarray(model_outputs(nb, model, loud), dtype=np.float64)
    inside = bool(np.all((values >= -PROBABILITY_SLACK) & (values <= 1 + PROBABILITY_SLACK)))
    chosen = "bce" if inside else "bce_logits"
    nb.note(
        f"`{loss_fn}` is not nn.BCELoss or nn.BCEWithLogitsLoss (graded elsewhere): this step "
        f"was tested with {'nn.BCELoss' if inside else 'nn.BCEWithLogitsLoss'}, which suits "
        "your discriminator's outputs"
    )
    return chosen
