"""Freezing and fine-tuning checks: which weights moved, and what the optimizer updates.

Transfer learning has two classic silent failures. A layer meant to be frozen is not
(it trains a little and the pretrained features drift), and a layer unfrozen for
fine-tuning never trains because the model was not compiled again after its
``trainable`` flag changed (Keras 3 builds the optimizer and the training function
for the weights trainable at the first ``fit``). Accuracy hides both. So a test takes
:func:`weight_snapshot` before and after a training call and compares the digests
here: equal digests mean bit-identical arrays. :func:`optimizer_coverage` lists which
trainable weights the compiled optimizer tracks.

The kernel only hashes arrays and lists variables (probes ``keras.weight_digests``,
``keras.optimizer_coverage``); every verdict is made in the grader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from grader.checks._common import KernelObject, as_ref, plain_int
from grader.testing.fixture import Notebook

#: Selects weights by path, e.g. ``lambda path: "conv2/" in path``.
WeightFilter = Callable[[str], bool]


@dataclass(frozen=True)
class WeightState:
    """One weight as measured: its shape, whether it is trainable now, its bytes' digest."""

    path: str
    shape: tuple[int, ...]
    trainable: bool
    digest: str


@dataclass(frozen=True)
class OptimizerCoverage:
    """The model's trainable weights and whether its optimizer tracks each (None: unknown)."""

    compiled: bool
    optimizer: str | None
    tracked: Mapping[str, bool | None]


def path_contains(*parts: str) -> WeightFilter:
    """A filter for weights whose path contains any of ``parts`` (``"conv2/"``)."""
    return lambda path: any(part in path for part in parts)


def _plain_str(value: object, what: str) -> str:
    if type(value) is not str:
        raise AssertionError(f"could not read {what} from the kernel")
    return value


def weight_snapshot(nb: Notebook, model: KernelObject) -> dict[str, WeightState]:
    """Every weight of a Keras model, by path (a snapshot to compare with a later one)."""
    raw = nb.probe("keras.weight_digests", model=as_ref(nb, model))
    if type(raw) is not list or not all(type(row) is dict for row in raw):
        raise AssertionError("could not read the model's weights from the kernel")
    states: dict[str, WeightState] = {}
    for row in raw:
        path = _plain_str(row.get("path"), "a weight's name")
        shape = row.get("shape")
        if type(shape) is not list:
            raise AssertionError(f"could not read the shape of {path}")
        trainable = row.get("trainable")
        if type(trainable) is not bool:
            raise AssertionError(f"could not read whether {path} is trainable")
        states[path] = WeightState(
            path=path,
            shape=tuple(plain_int(d, f"the shape of {path}") for d in shape),
            trainable=trainable,
            digest=_plain_str(row.get("digest"), f"the digest of {path}"),
        )
    if len(states) != len(raw):
        raise AssertionError("two of the model's weights have the same name; name your layers")
    return states


def _selected(
    states: Mapping[str, WeightState], which: WeightFilter, what: str
) -> list[WeightState]:
    chosen = [state for path, state in states.items() if which(path)]
    if not chosen:
        raise AssertionError(f"the model has no weights of {what}")
    return chosen


def changed_weights(
    before: Mapping[str, WeightState], after: Mapping[str, WeightState]
) -> list[str]:
    """Paths whose bytes differ between two snapshots (a weight that vanished counts)."""
    return [
        path
        for path, state in before.items()
        if path not in after or after[path].digest != state.digest
    ]


def expect_unchanged(
    before: Mapping[str, WeightState],
    after: Mapping[str, WeightState],
    which: WeightFilter,
    *,
    what: str,
    hint: str = "",
) -> None:
    """Every selected weight is bit-identical in both snapshots (a frozen layer)."""
    changed = set(changed_weights(before, after))
    moved = [s.path for s in _selected(before, which, what) if s.path in changed]
    if moved:
        message = f"the weights of {what} changed: {', '.join(moved)}"
        raise AssertionError(f"{message} ({hint})" if hint else message)


def expect_changed(
    before: Mapping[str, WeightState],
    after: Mapping[str, WeightState],
    which: WeightFilter,
    *,
    what: str,
    hint: str = "",
) -> None:
    """Every selected weight differs between the snapshots (a layer that trained)."""
    changed = set(changed_weights(before, after))
    still = [s.path for s in _selected(before, which, what) if s.path not in changed]
    if still:
        message = f"the weights of {what} did not change: {', '.join(still)}"
        raise AssertionError(f"{message} ({hint})" if hint else message)


def trainable_paths(states: Mapping[str, WeightState]) -> list[str]:
    """The weights a snapshot marks trainable (``model.trainable_weights`` at the time)."""
    return [path for path, state in states.items() if state.trainable]


def optimizer_coverage(nb: Notebook, model: KernelObject) -> OptimizerCoverage:
    """Which trainable weights the model's compiled optimizer updates (after a ``fit``)."""
    raw = nb.probe("keras.optimizer_coverage", model=as_ref(nb, model))
    if type(raw) is not dict or type(raw.get("trainable")) is not list:
        raise AssertionError("could not read the model's optimizer from the kernel")
    tracked: dict[str, bool | None] = {}
    for row in raw["trainable"]:
        if type(row) is not dict:
            raise AssertionError("could not read the model's optimizer from the kernel")
        flag = row.get("tracked")
        if flag is not None and type(flag) is not bool:
            raise AssertionError("could not read the model's optimizer from the kernel")
        tracked[_plain_str(row.get("path"), "a weight's name")] = flag
    optimizer = raw.get("optimizer")
    untracked = sum(1 for flag in tracked.values() if flag is not True)
    nb.record("trainable_weights_not_in_optimizer", untracked)
    return OptimizerCoverage(
        compiled=raw.get("compiled") is True,
        optimizer=optimizer if type(optimizer) is str else None,
        tracked=tracked,
    )


def expect_optimizer_covers(
    coverage: OptimizerCoverage, which: WeightFilter | None = None, *, what: str = "the model"
) -> None:
    """The optimizer updates every trainable weight (or every selected one).

    Fails when the model was never compiled, when its optimizer has not been built
    by a ``fit`` yet, and when weights made trainable after the last ``compile`` are
    missing from it: the message names them and says to compile again.
    """
    if not coverage.compiled or coverage.optimizer is None:
        raise AssertionError(f"{what} is not compiled: call model.compile(...) before fit")
    chosen = {p: f for p, f in coverage.tracked.items() if which is None or which(p)}
    if not chosen:
        raise AssertionError(f"{what} has no trainable weights to fine-tune")
    if any(flag is None for flag in chosen.values()):
        raise AssertionError(
            f"the optimizer of {what} has not been built: fit the model after compiling it"
        )
    missing: Sequence[str] = [path for path, flag in chosen.items() if not flag]
    if missing:
        raise AssertionError(
            f"the optimizer of {what} does not update {', '.join(missing)}: after changing "
            "`trainable`, call model.compile(...) again so Keras rebuilds its optimizer"
        )
