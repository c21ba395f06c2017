"""Which weights a training step changed, and which optimizer holds which weights.

Alternating training (a GAN's discriminator and generator steps) goes wrong in ways no
shape and no falling loss reveals: a step that back-propagates into the other network, an
optimizer built over both networks, a ``zero_grad`` on the wrong model. Each shows
exactly in which parameters and gradients a step touched. :func:`step_effects` calls the
student's step on the grader's own models (probe ``torch.step_effects``) with gradients
planted first, and the ``expect_*`` functions here compare digests: equal digests mean
bit-identical tensors, so no verdict depends on how a CPU rounds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grader.checks._common import KernelObject, as_ref
from grader.testing.fixture import Notebook


@dataclass(frozen=True)
class ParamChange:
    """One parameter tensor around a call: did its value or its gradient change?"""

    name: str
    changed: bool
    finite: bool
    grad_before: str | None
    grad_after: str | None

    @property
    def grad_touched(self) -> bool:
        """A gradient was written (a cleared gradient, None afterwards, does not count)."""
        return self.grad_after is not None and self.grad_after != self.grad_before


@dataclass(frozen=True)
class StepEffects:
    """What one call did to each watched model, by model name then parameter order."""

    result: float | None
    error: str | None
    models: Mapping[str, tuple[ParamChange, ...]]


def _text(value: Any, what: str) -> str:
    if type(value) is not str:
        raise AssertionError(f"could not read {what} from the kernel")
    return value


def _digest_or_none(value: Any, what: str) -> str | None:
    return None if value is None else _text(value, what)


def _changes(before: Any, after: Any, model: str) -> tuple[ParamChange, ...]:
    what = f"the parameters of the {model}"
    if type(before) is not list or type(after) is not list or len(before) != len(after):
        raise AssertionError(f"could not read {what} from the kernel")
    rows = []
    for old, new in zip(before, after, strict=True):
        if type(old) is not dict or type(new) is not dict or old.get("name") != new.get("name"):
            raise AssertionError(f"the {model}'s parameters changed names during the call")
        name = _text(old.get("name"), what)
        rows.append(
            ParamChange(
                name=name,
                changed=_text(old.get("value"), what) != _text(new.get("value"), what),
                finite=new.get("finite") is True,
                grad_before=_digest_or_none(old.get("grad"), what),
                grad_after=_digest_or_none(new.get("grad"), what),
            )
        )
    return tuple(rows)


def step_effects(
    nb: Notebook,
    function: str | KernelObject,
    *args: Any,
    models: Mapping[str, KernelObject],
    plant: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> StepEffects:
    """Call the notebook's ``function(*args, **kwargs)`` and see what it did to ``models``.

    ``plant`` fills gradients before the call, per model name: ``"nan"`` for the network
    the step should update (unless it clears its gradients first, its weights become NaN),
    ``"values"`` for one it should leave alone (back-propagating into it changes them),
    ``"none"``. Float arrays among the arguments arrive as float32 tensors.
    """
    raw = nb.probe(
        "torch.step_effects",
        function=function,
        models={key: as_ref(nb, model) for key, model in models.items()},
        args=list(args),
        kwargs=kwargs,
        plant=dict(plant or {}),
    )
    if type(raw) is not dict or type(raw.get("before")) is not dict:
        raise AssertionError("could not read what the step did from the kernel")
    before, after = raw["before"], raw.get("after")
    if type(after) is not dict or set(before) != set(models) or set(after) != set(models):
        raise AssertionError("could not read what the step did from the kernel")
    result = raw.get("result")
    error = raw.get("error")
    effects = StepEffects(
        result=float(result) if type(result) in (int, float) else None,
        error=error if type(error) is str else None,
        models={key: _changes(before[key], after[key], key) for key in models},
    )
    for key, rows in effects.models.items():
        nb.record(f"{key}_tensors_changed", sum(row.changed for row in rows))
    return effects


def _names(rows: Sequence[ParamChange], limit: int = 4) -> str:
    shown = ", ".join(row.name for row in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def expect_updates_only(
    effects: StepEffects,
    updated: str,
    *,
    what: str,
    moved_hint: str = "",
) -> None:
    """The step ran, changed every tensor of ``updated`` to finite values, and nothing else.

    A non-finite weight after a step whose gradients were planted as NaN means the step
    used gradients left from before it (no ``zero_grad`` on that network); an unchanged
    one, that it never stepped; a change in any other watched model, that the step moved
    a network it must not (``moved_hint`` says why that happens).
    """
    if effects.error is not None:
        raise AssertionError(f"{what} raised {effects.error}")
    if updated not in effects.models:
        raise AssertionError(f"the {updated} was not watched")
    for other, rows in effects.models.items():
        moved = [row for row in rows if other != updated and row.changed]
        if moved:
            hint = f": {moved_hint}" if moved_hint else ""
            raise AssertionError(f"{what} changed the {other}'s weights ({_names(moved)}){hint}")
    own = effects.models[updated]
    broken = [row for row in own if not row.finite]
    if broken:
        raise AssertionError(
            f"{what} used gradients left in the {updated} from before the step (the grader "
            f"left NaN there, and {_names(broken)} became NaN): clear the {updated}'s "
            f"gradients with its optimizer's zero_grad() before backward()"
        )
    still = [row for row in own if not row.changed]
    if still:
        raise AssertionError(
            f"{what} did not change the {updated}'s weights {_names(still)}: back-propagate "
            f"its loss and call its optimizer's step()"
        )


def expect_no_gradients_into(
    effects: StepEffects, model: str, *, what: str, hint: str = ""
) -> None:
    """The step wrote no gradient into ``model`` (clearing its gradients is allowed)."""
    if effects.error is not None:
        raise AssertionError(f"{what} raised {effects.error}")
    touched = [row for row in effects.models[model] if row.grad_touched]
    if touched:
        message = f"{what} computed gradients for the {model} ({_names(touched)})"
        raise AssertionError(f"{message}: {hint}" if hint else message)


def expect_float_result(effects: StepEffects, *, what: str) -> float:
    """The step returned its loss as a finite number."""
    if effects.error is not None:
        raise AssertionError(f"{what} raised {effects.error}")
    if effects.result is None or not math.isfinite(effects.result):
        raise AssertionError(f"{what} must return its loss as a finite float (loss.item())")
    return effects.result


# -- optimizers -------------------------------------------------------------------


@dataclass(frozen=True)
class OptimizerHolds:
    """An optimizer's class, options and, per watched model, tensors held out of its total."""

    kind: str
    options: tuple[Mapping[str, Any], ...]
    held: Mapping[str, tuple[int, int]]
    foreign: int


def optimizer_holds(
    nb: Notebook, optimizer: KernelObject, models: Mapping[str, KernelObject]
) -> OptimizerHolds:
    """Which models' parameters ``optimizer`` updates (matched by identity in the kernel)."""
    raw = nb.probe(
        "torch.optimizer_params",
        optimizer=as_ref(nb, optimizer),
        models={key: as_ref(nb, model) for key, model in models.items()},
    )
    if type(raw) is not dict or type(raw.get("class")) is not str:
        raise AssertionError("could not read the optimizer from the kernel")
    if raw.get("is_optimizer") is not True:
        raise AssertionError(f"expected a torch.optim optimizer, got a {raw['class']}")
    groups, per_model = raw.get("groups"), raw.get("models")
    if type(groups) is not list or type(per_model) is not dict or set(per_model) != set(models):
        raise AssertionError("could not read the optimizer from the kernel")
    held = {}
    for key, row in per_model.items():
        counts = (row.get("held"), row.get("total")) if type(row) is dict else (None, None)
        if not all(type(c) is int for c in counts):
            raise AssertionError("could not read the optimizer from the kernel")
        held[key] = counts
    foreign = raw.get("foreign")
    return OptimizerHolds(
        kind=raw["class"],
        options=tuple(g for g in groups if type(g) is dict),
        held=held,
        foreign=foreign if type(foreign) is int else 0,
    )


def expect_optimizer_over(
    holds: OptimizerHolds,
    model: str,
    *,
    what: str,
    kind: str | None = None,
    **options: float | Sequence[float],
) -> None:
    """The optimizer updates every parameter of ``model`` and nothing else, as configured.

    ``kind`` is the class name (``"Adam"``); each option (``lr=2e-4``, ``betas=(0.5,
    0.999)``) must hold in every parameter group, to a relative 1e-9 (a value written
    as ``2e-4`` or ``0.0002`` is the same float; a different one is not).
    """
    if kind is not None and holds.kind != kind:
        raise AssertionError(f"{what} is a {holds.kind}, expected torch.optim.{kind}")
    held, total = holds.held[model]
    if held < total:
        raise AssertionError(
            f"{what} holds {held} of the {model}'s {total} parameter tensors: build it over "
            f"{model}.parameters()"
        )
    others = [key for key, (count, _) in holds.held.items() if key != model and count]
    if others or holds.foreign:
        extra = ", ".join(f"the {key}" for key in others) or "other tensors"
        raise AssertionError(
            f"{what} also updates {extra}: build one optimizer per network, each over that "
            "network's parameters only, or every step moves both networks"
        )
    for key, wanted in options.items():
        for group in holds.options:
            if not _same_option(group.get(key), wanted):
                raise AssertionError(f"{what} has {key}={group.get(key)!r}, expected {wanted!r}")


def _same_option(got: Any, wanted: float | Sequence[float]) -> bool:
    if isinstance(wanted, int | float):
        wanted, got = [wanted], [got]
    if type(got) not in (list, tuple) or len(got) != len(wanted):
        return False
    return all(
        type(g) in (int, float) and abs(g - w) <= 1e-9 * abs(w)
        for g, w in zip(got, wanted, strict=True)
    )
