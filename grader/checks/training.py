"""Training checks: a short seeded run, and the objects a student's training loop needs.

:func:`train_losses` trains with the grader's own loop (so it measures the
model); :func:`make_loader`, :func:`make_optimizer` and :func:`make_loss_fn`
build kernel objects so a test can call the student's own loop instead, e.g.
``train_one_epoch(model, loader, optimizer, loss_fn, device)``.
:func:`expect_loss_decrease` judges any list of losses, ours or the student's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from grader.checks._common import KernelObject, as_ref, float_list, fmt_number, framework_of
from grader.probes.wire import Ref
from grader.testing.fixture import Notebook


def train_losses(
    nb: Notebook,
    model: KernelObject,
    x: np.ndarray,
    y: np.ndarray,
    *,
    steps: int = 20,
    optimizer: str = "sgd",
    lr: float = 0.01,
    loss: str = "cross_entropy",
    batch_size: int | None = None,
    seed: int = 0,
    restore_weights: bool = False,
    framework: str | None = None,
    timeout: float | None = None,
    **optimizer_options: Any,
) -> list[float]:
    """Per-step losses of a seeded run of ``steps`` steps on ``x, y`` (full batch by default).

    Losses: ``cross_entropy`` (logits, integer labels), ``mse``, ``bce`` (probabilities),
    ``bce_logits``; Keras also ``cross_entropy_probs``. Optimizers: ``sgd``, ``adam``,
    ``adamw``, ``rmsprop``, ``adadelta``; extra options (``momentum=0.9``) pass through.
    """
    ref = as_ref(nb, model)
    fw = framework_of(nb, ref, framework)
    raw = nb.probe(
        f"{fw}.train_losses",
        timeout=timeout,
        model=ref,
        x=np.asarray(x),
        y=np.asarray(y),
        steps=int(steps),
        optimizer=optimizer,
        lr=float(lr),
        loss=loss,
        batch_size=batch_size,
        seed=int(seed),
        restore_weights=restore_weights,
        **optimizer_options,
    )
    losses = float_list(raw, "the training losses")
    nb.record("losses", losses)
    return losses


def current_loss(
    nb: Notebook,
    model: KernelObject,
    x: np.ndarray,
    y: np.ndarray,
    *,
    loss: str = "cross_entropy",
    framework: str | None = None,
    timeout: float | None = None,
) -> float:
    """The model's full-batch loss on ``x, y`` as it stands, without changing it.

    One step at learning rate 0: the loss is measured and no weight moves. Tests use it
    to compare a student's trained model with the grader's own replay of training.
    """
    return train_losses(
        nb, model, x, y, steps=1, lr=0.0, loss=loss, framework=framework, timeout=timeout
    )[0]


def expect_loss_decrease(
    losses: Sequence[float],
    *,
    k: int = 3,
    min_relative_drop: float = 0.0,
    what: str = "training loss",
) -> None:
    """The mean of the last ``k`` losses is below the mean of the first ``k``.

    With ``min_relative_drop=0.1`` it must be at least 10% lower. NaN or infinite
    losses fail, naming the first step where one appeared. Needs at least two
    values; ``k`` shrinks to half the run when the run is short.
    """
    values = float_list(losses, f"the {what}")
    for step, value in enumerate(values):
        if not math.isfinite(value):
            raise AssertionError(f"the {what} became {value} at step {step + 1} of {len(values)}")
    if len(values) < 2:
        raise AssertionError(f"need at least 2 values of the {what}, got {len(values)}")
    k = max(1, min(k, len(values) // 2))
    first = sum(values[:k]) / k
    last = sum(values[-k:]) / k
    if last < first - abs(first) * min_relative_drop:
        return
    span = "value" if k == 1 else f"{k} values"
    required = "" if not min_relative_drop else f" by at least {min_relative_drop:.0%}"
    raise AssertionError(
        f"the {what} did not decrease{required}: mean of the first {span} {fmt_number(first)}, "
        f"of the last {span} {fmt_number(last)}"
    )


def expect_training_lowers_loss(
    nb: Notebook,
    model: KernelObject,
    x: np.ndarray,
    y: np.ndarray,
    train: Callable[[], object],
    *,
    loss: str = "cross_entropy",
    min_relative_drop: float = 0.0,
    what: str = "loss before and after training",
) -> tuple[float, float]:
    """Measure the loss, run ``train()`` (the student's loop), measure again: it must drop.

    Both values are recorded (``loss_before``, ``loss_after``) for the report. ``train``
    is a callable so the test decides how the student's function is called.
    """
    before = current_loss(nb, model, x, y, loss=loss)
    train()
    after = current_loss(nb, model, x, y, loss=loss)
    nb.record("loss_before", before)
    nb.record("loss_after", after)
    expect_loss_decrease([before, after], k=1, min_relative_drop=min_relative_drop, what=what)
    return before, after


def epoch_history(
    nb: Notebook,
    name: str = "history",
    epochs: int | None = None,
    *,
    missing_hint: str = "keep one mean loss per epoch",
    count_name: str = "EPOCHS",
    unit: str = "epoch",
) -> list[float]:
    """The notebook's per-epoch list ``name``: numbers, exactly one per epoch.

    ``epochs`` defaults to the notebook's ``EPOCHS`` when the notebook's own cells use that
    name. A notebook that sets its own epoch count (``range(8)``, ``NUM_EPOCHS``) is taken
    at its word: the list's length is its epoch count, and the detail says so. The
    messages say which of the three things is wrong: missing, not numbers, wrong length.
    A list kept per training step instead (a GAN's losses) passes ``count_name="STEPS"``
    and ``unit="step"``.
    """
    if not nb.exists(name):
        raise AssertionError(f"the notebook has no `{name}`: {missing_hint}")
    raw = nb.get(name)
    try:
        values = [float(v) for v in raw]
    except (TypeError, ValueError):
        raise AssertionError(f"`{name}` must be a list of numbers, one per {unit}") from None
    if epochs is None and nb.uses(count_name) and nb.exists(count_name):
        epochs = nb.get(count_name)
    if epochs is None:
        nb.note(
            f"your notebook does not use {count_name}: the {len(values)} entries of `{name}` "
            f"were taken as one per {unit}"
        )
    elif len(values) != epochs:
        raise AssertionError(
            f"`{name}` has {len(values)} entries but {count_name} is {epochs}: one per {unit}"
        )
    return values


def make_loader(
    nb: Notebook,
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
) -> Ref:
    """A torch DataLoader over ``x, y`` in the kernel (CPU tensors; float x, integer y kept)."""
    return _kernel_object(
        nb.probe(
            "torch.make_loader",
            x=np.asarray(x),
            y=np.asarray(y),
            batch_size=int(batch_size),
            shuffle=shuffle,
            seed=int(seed),
        )
    )


def make_optimizer(
    nb: Notebook, model: KernelObject, optimizer: str = "sgd", lr: float = 0.01, **options: Any
) -> Ref:
    """A torch optimizer over the model's parameters, in the kernel."""
    return _kernel_object(
        nb.probe(
            "torch.make_optimizer",
            model=as_ref(nb, model),
            optimizer=optimizer,
            lr=float(lr),
            **options,
        )
    )


def make_loss_fn(nb: Notebook, loss: str = "cross_entropy") -> Ref:
    """A torch loss module (``cross_entropy``, ``mse``, ``bce``, ``bce_logits``), in the kernel."""
    return _kernel_object(nb.probe("torch.make_loss", loss=loss))


def _kernel_object(value: Any) -> Ref:
    if not isinstance(value, Ref):
        raise RuntimeError(f"expected a kernel object from the probe, got {type(value).__name__}")
    return value
