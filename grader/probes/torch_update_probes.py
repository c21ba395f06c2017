"""PyTorch probes for *which* weights a training step changed, and with what.

Some training mistakes show in no shape and in no single loss: a GAN's discriminator step
that also back-propagates into the generator, one optimizer built over two networks, a
``zero_grad`` on the wrong model. What separates them from correct code is which
parameters and gradients a call touched. :func:`step_effects` calls a student's step on
the grader's own models and reports, per parameter, digests of its value and gradient
before and after; :func:`optimizer_params` says which models' parameters an optimizer
holds. Both return raw measurements: the grader compares them.

Gradients can be *planted* before the call: NaN in the network the step should update
(a step that does not clear its old gradients then turns that network's weights into
NaN, exactly, on any CPU), and known finite values in a network it should leave alone (a
step that back-propagates into it changes them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from grader.probes import kernel
from grader.probes.library import probe
from grader.probes.torch_probes import _device_of, _module
from grader.probes.torch_step_probes import DeviceRecordingLoss

#: How a planted gradient is filled: NaN, seeded finite values, or no gradient at all.
PLANTS = ("nan", "values", "none")


def _digest(tensor: torch.Tensor | None) -> str | None:
    """SHA-256 of a tensor's dtype, shape and bytes (None for a missing gradient)."""
    if tensor is None:
        return None
    data = tensor.detach().cpu().contiguous()
    digest = hashlib.sha256(f"{data.dtype}{tuple(data.shape)}".encode())
    if data.dtype == torch.bfloat16:  # NumPy has no bfloat16; float32 holds it exactly
        data = data.float()
    digest.update(data.numpy().tobytes())
    return digest.hexdigest()


def _plant(model: torch.nn.Module, how: str, seed: int) -> None:
    if how not in PLANTS:
        raise ValueError(f"unknown gradient plant {how!r}; known: {PLANTS}")
    generator = torch.Generator().manual_seed(seed)
    for param in model.parameters():
        if how == "none":
            param.grad = None
        elif how == "nan":
            param.grad = torch.full_like(param, float("nan"))
        else:
            values = torch.randn(param.shape, generator=generator, dtype=torch.float32)
            param.grad = values.to(dtype=param.dtype, device=param.device)


def _state(model: torch.nn.Module) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "shape": [int(d) for d in param.shape],
            "value": _digest(param),
            "grad": _digest(param.grad),
            "finite": bool(torch.isfinite(param.detach()).all()),
        }
        for name, param in model.named_parameters()
    ]


def _as_input(value: Any, device: torch.device) -> Any:
    """Arrays the grader sent become float32 tensors on the models' device (data, noise)."""
    if type(value) is np.ndarray and value.dtype.kind == "f":
        return torch.as_tensor(value, dtype=torch.float32, device=device)
    return value


@probe("torch.step_effects")
def step_effects(
    function: Any,
    models: Mapping[str, Any],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    plant: Mapping[str, str] | None = None,
    plant_seed: int = 0,
) -> dict[str, Any]:
    """Call ``function(*args, **kwargs)`` and report what it did to each named model.

    ``models`` maps names to the modules to watch; ``plant`` maps some of those names to
    how their gradients are filled first (:data:`PLANTS`). Float arrays among the
    arguments become float32 tensors on the first model's device. Returns the call's
    result (a number, else None), its error as ``Type: message``, and per model the
    parameters before and after: name, shape, digest of the value and of the gradient,
    and whether the value is finite afterwards.
    """
    watched = {str(key): _module(model) for key, model in models.items()}
    for offset, (key, how) in enumerate((plant or {}).items()):
        _plant(watched[key], how, plant_seed + offset)
    target = kernel.lookup(function) if isinstance(function, str) else function
    device = _device_of(next(iter(watched.values()))) if watched else torch.device("cpu")
    call_args = [_as_input(value, device) for value in args]
    call_kwargs = {key: _as_input(value, device) for key, value in (kwargs or {}).items()}
    before = {key: _state(model) for key, model in watched.items()}
    result, error = None, None
    try:
        result = target(*call_args, **call_kwargs)
    except Exception as exc:  # noqa: BLE001 - the error is the measurement
        error = kernel._describe(exc)
    after = {key: _state(model) for key, model in watched.items()}
    if isinstance(result, torch.Tensor) and result.numel() == 1:
        result = float(result.detach().cpu())
    return {
        "result": result if type(result) in (int, float) else None,
        "result_type": type(result).__name__,
        "error": None if error is None else f"{error['type']}: {error['message']}"[:1000],
        "before": before,
        "after": after,
    }


def _plain_options(group: Mapping[str, Any]) -> dict[str, Any]:
    """The scalar options of a parameter group (lr, betas, momentum...), as plain data."""
    options: dict[str, Any] = {}
    for key, value in group.items():
        if key == "params":
            continue
        if type(value) in (int, float, bool, str) or value is None:
            options[key] = value
        elif isinstance(value, tuple | list) and all(type(v) in (int, float) for v in value):
            options[key] = [float(v) for v in value]
        elif isinstance(value, torch.Tensor) and value.numel() == 1:
            options[key] = float(value)
    return options


@probe("torch.optimizer_params")
def optimizer_params(optimizer: Any, models: Mapping[str, Any]) -> dict[str, Any]:
    """Which of the named models' parameters ``optimizer`` holds, and its options.

    Parameters are matched by identity. Returns the optimizer's class, each parameter
    group's scalar options, and per model how many of its parameter tensors the
    optimizer holds out of how many it has; ``foreign`` counts tensors of no listed model.
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        return {"class": type(optimizer).__name__, "is_optimizer": False}
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    owned: set[int] = set()
    per_model = {}
    for key, model in models.items():
        ids = [id(p) for p in _module(model).parameters()]
        owned.update(ids)
        per_model[str(key)] = {"held": sum(i in held for i in ids), "total": len(ids)}
    return {
        "class": type(optimizer).__name__,
        "is_optimizer": True,
        "groups": [_plain_options(group) for group in optimizer.param_groups],
        "models": per_model,
        "foreign": len(held - owned),
    }


@probe("torch.loss_kind")
def loss_kind(loss_fn: Any) -> dict[str, Any]:
    """The class of a loss object (``BCELoss``, ``BCEWithLogitsLoss``...) and its reduction."""
    inner = loss_fn.inner if isinstance(loss_fn, DeviceRecordingLoss) else loss_fn
    return {
        "class": type(inner).__name__,
        "module": type(inner).__module__,
        "reduction": getattr(inner, "reduction", None),
    }


@probe("torch.loss_targets")
def loss_targets(loss_fn: Any) -> list[dict[str, Any]]:
    """The targets a recording loss was given, one summary per call (min, max, count)."""
    if not isinstance(loss_fn, DeviceRecordingLoss):
        raise TypeError("expected a loss made by torch.recording_loss")
    return [dict(call) for call in loss_fn.targets]
