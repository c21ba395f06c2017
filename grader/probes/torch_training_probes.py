"""PyTorch probes that train or watch training: loaders, optimizers, losses, devices,
Jacobians. Split from :mod:`grader.probes.torch_probes`, whose helpers they share.

Like every probe, these return raw measurements; the grader judges them.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from grader.probes import kernel
from grader.probes.library import probe
from grader.probes.torch_probes import (
    INDEX_TARGET_LOSSES,
    LOSSES,
    OPTIMIZERS,
    _device_of,
    _first_tensor,
    _module,
    _seed_all,
    _shape_of,
    _tensor,
)


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


@probe("torch.reference_lenet5")
def reference_lenet5(num_classes: int = 10, seed: int = 0) -> torch.nn.Module:
    """The grader's own LeNet-5 (3x32x32 -> logits), seeded.

    A loop criterion tests the student's loop on it when the student's own network
    cannot serve (it returns probabilities, say), so the loop is judged on its own and
    the network's mistake is charged to the network's criterion alone.
    """
    _seed_all(seed)
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(3, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, num_classes),
    )
