"""PyTorch measurements taken inside the kernel.

Every probe here returns raw numbers (counts, shapes, losses, predictions,
Jacobians, device names) and never a verdict: the grader compares them with
expected values in its own process, where student code cannot reach.

Probes that run a model put it in eval mode under ``no_grad`` and afterwards
restore each module's own ``training`` flag, so measuring never changes how the
student's later cells (or later tests) behave.
"""

from __future__ import annotations

import contextlib
import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from grader.probes.library import probe

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "adadelta": torch.optim.Adadelta,
}
LOSSES: dict[str, Callable[[], torch.nn.Module]] = {
    "cross_entropy": torch.nn.CrossEntropyLoss,
    "mse": torch.nn.MSELoss,
    "bce": torch.nn.BCELoss,
    "bce_logits": torch.nn.BCEWithLogitsLoss,
}
#: Losses whose targets are class indices rather than values.
INDEX_TARGET_LOSSES = frozenset({"cross_entropy"})


# -- helpers -------------------------------------------------------------------


def _module(model: Any) -> torch.nn.Module:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"expected a torch.nn.Module, got a {type(model).__name__}")
    return model


def _device_of(model: torch.nn.Module) -> torch.device:
    """Where inputs must go: the device of the first parameter (or buffer), else the CPU."""
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    return torch.device("cpu") if first is None else first.device


def _shape_of(value: Any) -> Any:
    """The shape of a tensor, or nested lists of shapes for tuples such as an LSTM's output."""
    if isinstance(value, torch.Tensor):
        return [int(d) for d in value.shape]
    if isinstance(value, (tuple, list)):
        return [_shape_of(v) for v in value]
    return None


def _first_tensor(value: Any) -> torch.Tensor:
    """The main output of a model: the tensor itself, or the first one in a tuple."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)) and value:
        return _first_tensor(value[0])
    raise TypeError(f"the model returned a {type(value).__name__}, not a tensor")


def _tensor(data: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A tensor from an array sent by the grader (or a tensor already in the kernel)."""
    tensor = data if isinstance(data, torch.Tensor) else torch.as_tensor(np.asarray(data))
    if dtype is None:
        dtype = torch.float32 if tensor.is_floating_point() else torch.long
    return tensor.to(dtype)


@contextlib.contextmanager
def _evaluating(model: torch.nn.Module) -> Iterator[None]:
    """Eval mode and no_grad for the duration; every module's own mode restored after."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for module, mode in modes:
            module.training = mode


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # every device, CUDA included


def _own_param_counts(module: torch.nn.Module) -> tuple[int, int]:
    params = list(module.parameters(recurse=False))
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)


# -- structure -----------------------------------------------------------------


@probe("torch.param_counts")
def param_counts(model: torch.nn.Module) -> dict[str, int]:
    """Total, trainable and frozen parameter counts (buffers such as BN statistics excluded)."""
    params = list(_module(model).parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return {"total": total, "trainable": trainable, "non_trainable": total - trainable}


@probe("torch.layer_params")
def layer_params(model: torch.nn.Module) -> list[dict[str, Any]]:
    """Every module that owns parameters, in definition order, with its own counts."""
    rows = []
    for name, module in _module(model).named_modules():
        total, trainable = _own_param_counts(module)
        if total:
            rows.append(
                {
                    "name": name,
                    "kind": type(module).__name__,
                    "params": total,
                    "trainable": trainable,
                }
            )
    return rows


@probe("torch.output_shapes")
def output_shapes(
    model: torch.nn.Module, input_shapes: Sequence[Sequence[int]], dtype: str = "float32"
) -> list[Any]:
    """The output shape for a zero input of each given shape (batch sizes vary in the list)."""
    model = _module(model)
    device = _device_of(model)
    shapes = []
    with _evaluating(model):
        for shape in input_shapes:
            x = torch.zeros(
                tuple(int(d) for d in shape), dtype=getattr(torch, dtype), device=device
            )
            shapes.append(_shape_of(model(x)))
    return shapes


@probe("torch.layer_shapes")
def layer_shapes(
    model: torch.nn.Module, input_shape: Sequence[int], dtype: str = "float32"
) -> dict[str, Any]:
    """Output shape of every leaf module, in call order, from one forward pass with hooks.

    Leaf modules only: a container's output repeats its last child's. A module
    called twice (one ReLU reused) appears twice, as the forward pass used it.
    Functional calls (``F.relu``, ``x.view``) have no module and do not appear.
    """
    model = _module(model)
    names = {id(m): n for n, m in model.named_modules()}
    rows: list[dict[str, Any]] = []

    def record(module: torch.nn.Module, _inputs: Any, output: Any) -> None:
        total, trainable = _own_param_counts(module)
        rows.append(
            {
                "name": names.get(id(module), "?"),
                "kind": type(module).__name__,
                "output_shape": _shape_of(output),
                "params": total,
                "trainable": trainable,
            }
        )

    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    hooks = [m.register_forward_hook(record) for m in leaves]
    x = torch.zeros(tuple(int(d) for d in input_shape), dtype=getattr(torch, dtype))
    try:
        with _evaluating(model):
            output = model(x.to(_device_of(model)))
    finally:
        for hook in hooks:
            hook.remove()
    return {"layers": rows, "output_shape": _shape_of(output)}


# -- predictions ---------------------------------------------------------------


@probe("torch.predict_classes")
def predict_classes(
    model: torch.nn.Module,
    x: Any,
    batch_size: int = 256,
    binary_threshold: float | None = None,
) -> np.ndarray:
    """Predicted class per example: argmax of the outputs, or ``output > threshold`` for one column.

    Labels never enter the kernel; the grader counts the correct predictions.
    """
    model = _module(model)
    inputs = _tensor(x)
    device = _device_of(model)
    predictions = []
    with _evaluating(model):
        for start in range(0, len(inputs), batch_size):
            out = _first_tensor(model(inputs[start : start + batch_size].to(device)))
            out = out.reshape(out.shape[0], -1)
            if out.shape[1] == 1:
                if binary_threshold is None:
                    raise ValueError(
                        "the model has one output column: pass binary_threshold "
                        "(0.0 for logits, 0.5 for probabilities)"
                    )
                predictions.append((out[:, 0] > binary_threshold).long().cpu())
            else:
                predictions.append(out.argmax(dim=1).cpu())
    if not predictions:
        return np.zeros(0, dtype=np.int64)
    return torch.cat(predictions).numpy().astype(np.int64)


# -- training ------------------------------------------------------------------
