"""The per-epoch numbers a Keras notebook kept from ``model.fit`` (its ``History``).

Tests of the Keras labs read the notebook's training curves from here. How many epochs
the notebook trained for is what it really did: its ``EPOCHS`` (or another name) when its
own cells use that name, and otherwise the length of its history, with a note. A notebook
that hard-codes ``epochs=8`` is not wrong (issue 16); only curves of different lengths, or
a length other than the notebook's own ``EPOCHS``, are.
"""

from __future__ import annotations

from collections.abc import Sequence

from grader.checks._common import float_list
from grader.testing.fixture import Notebook


def fit_history(
    nb: Notebook,
    keys: Sequence[str] = ("loss",),
    *,
    name: str = "history",
    epochs: str | None = "EPOCHS",
    hint: str = "train with validation_split",
) -> dict[str, list[float]]:
    """``{key: per-epoch values}`` from the notebook's ``name``: what ``model.fit`` returned
    (a ``History``) or its ``.history`` dictionary.

    Every key in ``keys`` must be there, as numbers, all of the same length: one per epoch.
    With ``epochs`` a name the notebook's own cells use, the length must be its value;
    otherwise the notebook's own epoch count is taken as it is, and a note says so.
    """
    if nb.exists(f"{name}.history"):
        curves = nb.get(f"{name}.history")
    elif nb.exists(name):
        curves = nb.get(name)
    else:
        raise AssertionError(f"the notebook has no `{name}`: keep what model.fit returns")
    if type(curves) is not dict:
        raise AssertionError(f"`{name}` must be what model.fit returned (a History)")
    values: dict[str, list[float]] = {}
    for key in keys:
        if key not in curves:
            raise AssertionError(f"{name}.history has no {key!r}: {hint}")
        values[key] = float_list(curves[key], f"{name}.history[{key!r}]")
    lengths = {len(series) for series in values.values()}
    if len(lengths) > 1:
        raise AssertionError(
            f"{name}.history's curves have different lengths ({sorted(lengths)}): keep the "
            "History of one training run"
        )
    ran = lengths.pop() if lengths else 0
    if ran == 0:
        raise AssertionError(f"{name}.history is empty: train for at least one epoch")
    if epochs and nb.uses(epochs) and nb.exists(epochs):
        wanted = nb.get(epochs)
        if ran != wanted:
            raise AssertionError(
                f"{name}.history[{keys[0]!r}] has {ran} values, one per epoch of {wanted!r} "
                f"({epochs})"
            )
    elif epochs:
        nb.note(f"your notebook does not use {epochs}: its {ran} epochs of training were checked")
    return values
