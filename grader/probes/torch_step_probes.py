"""PyTorch probes for device discipline without a GPU, and for raw model outputs.

A CPU-only grading machine cannot see whether a loop moves its batches to the GPU: every
tensor is on the CPU already. It can see whether the loop moves them to *the device it is
given*: the grader moves a fresh model to ``meta`` (a device with shapes and no data, in
every torch build) and passes that device to the student's loop. A loop that moves its
batches reaches the model with ``meta`` tensors; one that forgets reaches it with ``cpu``
tensors. The loop fails later (``loss.item()`` has no value on ``meta``); the devices seen
before that are the evidence, as with :func:`torch_training_probes.observe_devices`.

Likewise :func:`device_choice` runs the student's device function while ``torch.cuda``
says a GPU is (or is not) there, so a hard-coded ``"cpu"`` or ``"cuda"`` shows on any
machine. The probes return what they saw; the grader decides.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from grader.probes import kernel
from grader.probes.library import probe
from grader.probes.torch_probes import (
    LOSSES,
    _device_of,
    _evaluating,
    _first_tensor,
    _module,
    _tensor,
)


@probe("torch.make_device")
def make_device(kind: str) -> torch.device:
    """A ``torch.device`` to hand to the student's code (``meta`` works on every machine)."""
    return torch.device(kind)


@contextlib.contextmanager
def _cuda_reported(available: bool) -> Iterator[None]:
    """``torch.cuda`` (and ``torch.accelerator``) answer as if a GPU were, or were not, there.

    Only the questions a device choice asks are patched (is one available, how many,
    which); nothing is allocated, and everything is restored afterwards.
    """
    patches: list[tuple[Any, str, Any]] = [
        (torch.cuda, "is_available", lambda: available),
        (torch.cuda, "device_count", lambda: 1 if available else 0),
    ]
    accelerator = getattr(torch, "accelerator", None)
    if accelerator is not None:
        patches.append((accelerator, "is_available", lambda: available))
        patches.append(
            (
                accelerator,
                "current_accelerator",
                lambda *args, **kwargs: torch.device("cuda") if available else None,
            )
        )
    patches = [(owner, attr, new) for owner, attr, new in patches if hasattr(owner, attr)]
    saved = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in patches]
    try:
        for owner, attr, replacement in patches:
            setattr(owner, attr, replacement)
        yield
    finally:
        for owner, attr, original in saved:
            setattr(owner, attr, original)


@probe("torch.device_choice")
def device_choice(function: Any, cuda_available: bool) -> dict[str, Any]:
    """Call ``function()`` while torch reports a GPU as ``cuda_available``; report its answer.

    Returns the device it returned as text (``str(torch.device)``, or the string itself),
    the returned value's type name, and ``Type: message`` if it raised.
    """
    target = kernel.lookup(function) if isinstance(function, str) else function
    result, error = None, None
    with _cuda_reported(bool(cuda_available)):
        try:
            result = target()
        except Exception as exc:  # noqa: BLE001 - the error is the measurement
            error = kernel._describe(exc)
    return {
        "device": str(result) if isinstance(result, torch.device | str) else None,
        "type": type(result).__name__,
        "error": None if error is None else f"{error['type']}: {error['message']}"[:1000],
    }


def _devices_of(values: Any) -> list[str]:
    found: list[str] = []
    for value in values:
        if isinstance(value, torch.Tensor):
            found.append(str(value.device))
    return found


def _target_summary(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Smallest and largest target value of one loss call, and how many there were."""
    target = kwargs.get("target", args[1] if len(args) > 1 else None)
    if not isinstance(target, torch.Tensor) or target.numel() == 0:
        return {"min": None, "max": None, "count": 0}
    values = target.detach().float()
    return {
        "min": float(values.min().cpu()),
        "max": float(values.max().cpu()),
        "count": int(values.numel()),
    }


class DeviceRecordingLoss(torch.nn.Module):
    """A loss module that notes what it is given (devices, targets), then computes.

    The grader hands it to the student's loop as ``loss_fn`` to see whether the targets
    were moved along with the inputs (the model's forward hook sees only the inputs),
    and which targets a step trains towards (a GAN's generator step: ones).
    """

    def __init__(self, loss: str) -> None:
        super().__init__()
        self.inner = LOSSES[loss]()
        self.calls: list[list[str]] = []
        self.targets: list[dict[str, Any]] = []

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        self.calls.append(_devices_of([*args, *kwargs.values()]))
        self.targets.append(_target_summary(args, kwargs))
        return self.inner(*args, **kwargs)


@probe("torch.recording_loss")
def recording_loss(loss: str = "cross_entropy") -> DeviceRecordingLoss:
    """A fresh :class:`DeviceRecordingLoss` around the named loss."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; known: {sorted(LOSSES)}")
    return DeviceRecordingLoss(loss)


@probe("torch.loss_devices")
def loss_devices(loss_fn: Any) -> list[list[str]]:
    """The devices a :class:`DeviceRecordingLoss` saw, one list per call (outputs, targets)."""
    if not isinstance(loss_fn, DeviceRecordingLoss):
        raise TypeError("expected a loss made by torch.recording_loss")
    return [list(call) for call in loss_fn.calls]


@probe("torch.outputs")
def outputs(model: torch.nn.Module, x: Any, batch_size: int = 256) -> np.ndarray:
    """The model's raw outputs for ``x`` (eval mode, no_grad, batched), as float32.

    For an autoencoder these are the reconstructions; the grader computes errors from
    them, so a per-image error never depends on the student's own error function.
    """
    model = _module(model)
    inputs = _tensor(x)
    device = _device_of(model)
    parts = []
    with _evaluating(model):
        for start in range(0, len(inputs), batch_size):
            out = _first_tensor(model(inputs[start : start + batch_size].to(device)))
            parts.append(out.detach().float().cpu())
    if not parts:
        return np.zeros((0,), dtype=np.float32)
    return torch.cat(parts).numpy()
