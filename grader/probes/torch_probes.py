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
import copy
import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from grader.probes import kernel
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


@probe("torch.make_loader")
def make_loader(
    x: Any, y: Any, batch_size: int = 32, shuffle: bool = False, seed: int = 0
) -> torch.utils.data.DataLoader:
    """A DataLoader over arrays sent by the grader, for calling the student's training loop.

    The tensors stay on the CPU, as a real dataset's would: moving batches to the
    device is the student's job, and :func:`observe_devices` checks it.
    """
    dataset = torch.utils.data.TensorDataset(_tensor(x), _tensor(y))
    generator = torch.Generator().manual_seed(seed)
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle, generator=generator
    )


@probe("torch.make_optimizer")
def make_optimizer(
    model: torch.nn.Module, optimizer: str = "sgd", lr: float = 0.01, **options: Any
) -> torch.optim.Optimizer:
    """An optimizer over the model's parameters (``momentum``, ``betas``... pass through)."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[optimizer](_module(model).parameters(), lr=lr, **options)


@probe("torch.make_loss")
def make_loss(loss: str = "cross_entropy") -> torch.nn.Module:
    """A fresh loss module by name (probe kwargs cannot be called ``name``: the bridge uses it)."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; known: {sorted(LOSSES)}")
    return LOSSES[loss]()


@probe("torch.train_losses")
def train_losses(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    steps: int = 20,
    optimizer: str = "sgd",
    lr: float = 0.01,
    loss: str = "cross_entropy",
    batch_size: int | None = None,
    seed: int = 0,
    restore_weights: bool = False,
    **optimizer_options: Any,
) -> list[float]:
    """Seed everything, train for ``steps`` steps with our own loop, return each step's loss.

    Full batch by default; with ``batch_size`` the batches cycle in order. The
    loop is ours, so the curve measures the model (and its initialisation), not
    the student's training code.
    """
    model = _module(model)
    _seed_all(seed)
    device = _device_of(model)
    inputs = _tensor(x).to(device)
    target_dtype = torch.long if loss in INDEX_TARGET_LOSSES else torch.float32
    targets = _tensor(y, target_dtype).to(device)
    loss_fn = make_loss(loss)
    opt = make_optimizer(model, optimizer, lr, **optimizer_options)
    saved = copy.deepcopy(model.state_dict()) if restore_weights else None
    modes = [(m, m.training) for m in model.modules()]
    size = len(inputs) if batch_size is None else batch_size
    starts = list(range(0, len(inputs), size))
    losses: list[float] = []
    model.train()
    try:
        for step in range(steps):
            start = starts[step % len(starts)]
            xb, yb = inputs[start : start + size], targets[start : start + size]
            opt.zero_grad()
            out = _first_tensor(model(xb))
            if target_dtype is torch.float32 and yb.numel() == out.numel():
                yb = yb.reshape(out.shape)
            value = loss_fn(out, yb)
            if value.requires_grad:  # a fully frozen model cannot learn: its curve stays flat
                value.backward()
                opt.step()
            losses.append(float(value.detach().cpu()))
    finally:
        for module, mode in modes:
            module.training = mode
        if saved is not None:
            model.load_state_dict(saved)
    return losses


# -- devices -------------------------------------------------------------------


def _tensor_devices(value: Any, found: set[str]) -> None:
    if isinstance(value, torch.Tensor):
        found.add(str(value.device))
    elif isinstance(value, (tuple, list)):
        for item in value:
            _tensor_devices(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _tensor_devices(item, found)


@probe("torch.devices")
def devices(model: torch.nn.Module) -> dict[str, Any]:
    """Devices of the model's parameters and buffers, and whether CUDA exists here."""
    model = _module(model)
    return {
        "cuda_available": torch.cuda.is_available(),
        "param_devices": sorted({str(p.device) for p in model.parameters()}),
        "buffer_devices": sorted({str(b.device) for b in model.buffers()}),
    }


@probe("torch.observe_devices")
def observe_devices(
    model: torch.nn.Module,
    function: Any,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Call ``function(*args, **kwargs)`` (e.g. ``train_one_epoch``) and watch the model.

    A forward pre-hook records the devices of the tensors the model receives, so
    a loop that forgets to move its batches shows ``cpu`` even when the model is
    on the GPU. With CUDA, the peak memory allocated during the call is measured
    too. ``function`` is a notebook name or a kernel object. If it raises, the
    error comes back beside the devices seen until then (a batch left on the CPU
    makes a CUDA model raise, and the devices say why).
    """
    model = _module(model)
    target = kernel.lookup(function) if isinstance(function, str) else function
    seen: set[str] = set()
    calls = 0

    def before_forward(_module: torch.nn.Module, f_args: Any, f_kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        _tensor_devices(f_args, seen)
        _tensor_devices(f_kwargs, seen)

    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        baseline = torch.cuda.memory_allocated()
    hook = model.register_forward_pre_hook(before_forward, with_kwargs=True)
    result, error = None, None
    try:
        result = target(*args, **(kwargs or {}))
    except Exception as exc:  # noqa: BLE001 - the devices seen so far are the evidence
        error = kernel._describe(exc)
    finally:
        hook.remove()
    peak = None
    if cuda:
        torch.cuda.synchronize()
        peak = int(torch.cuda.max_memory_allocated() - baseline)
    return {
        "cuda_available": cuda,
        "batch_devices": sorted(seen),
        "forward_calls": calls,
        "peak_cuda_memory_bytes": peak,
        "param_devices": sorted({str(p.device) for p in model.parameters()}),
        "result": result if type(result) in (int, float, bool) else None,
        "error": None if error is None else f"{error['type']}: {error['message']}"[:1000],
    }


# -- autograd --------------------------------------------------------------------


@probe("torch.jacobians")
def jacobians(function: Any, inputs: Sequence[Any], eps: float = 1e-6) -> dict[str, Any]:
    """Analytic (backward) and numerical (centred differences) Jacobians of ``function``.

    In the manner of ``torch.autograd.gradcheck``: float64 inputs, one backward
    pass per output element for the analytic rows, ``(f(x+eps) - f(x-eps)) / 2eps``
    per input element for the numerical columns. ``function`` is a callable, a name,
    or a ``torch.autograd.Function`` subclass (its ``apply`` is used). Integer
    inputs are passed as they are and get no Jacobian. Returns one matrix per
    input, shaped (output elements, input elements); the grader compares them.
    """
    target = kernel.lookup(function) if isinstance(function, str) else function
    if isinstance(target, type) and issubclass(target, torch.autograd.Function):
        target = target.apply
    base = [v if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v)) for v in inputs]
    base = [t.double() if t.is_floating_point() else t for t in base]  # float64, no float32 stop
    wrt = [k for k, t in enumerate(base) if t.is_floating_point()]  # inputs differentiated

    def evaluate(values: list[torch.Tensor]) -> torch.Tensor:
        return _first_tensor(target(*values))

    leaves = [t.clone().requires_grad_(t.is_floating_point()) for t in base]
    raw_output = evaluate(leaves)
    output = raw_output.reshape(-1)
    analytic = [torch.zeros(output.numel(), base[k].numel(), dtype=torch.float64) for k in wrt]
    if output.requires_grad and wrt:
        for row in range(output.numel()):
            grads = torch.autograd.grad(
                output[row], [leaves[k] for k in wrt], retain_graph=True, allow_unused=True
            )
            for jacobian, grad in zip(analytic, grads, strict=True):
                if grad is not None:  # None: this input does not affect the output
                    jacobian[row] = grad.reshape(-1).double()
    numeric = [torch.zeros_like(jacobian) for jacobian in analytic]
    with torch.no_grad():
        for jacobian, k in zip(numeric, wrt, strict=True):
            for col in range(base[k].numel()):
                values = [t.clone() for t in base]
                values[k].view(-1)[col] += eps
                plus = evaluate(values).reshape(-1).double()
                values[k].view(-1)[col] -= 2 * eps
                minus = evaluate(values).reshape(-1).double()
                jacobian[:, col] = (plus - minus) / (2 * eps)
    return {
        "analytic": [jacobian.numpy() for jacobian in analytic],
        "numeric": [jacobian.numpy() for jacobian in numeric],
        "output_shape": _shape_of(raw_output),
        "output_dtype": str(output.dtype).removeprefix("torch."),
        "output_requires_grad": bool(output.requires_grad),
    }
