"""Device checks for PyTorch: where the model lives, where its batches arrive, GPU memory used.

The kernel reports device names and byte counts; the grader decides. Without
a GPU the probes still answer (``cpu``, no CUDA), so a test can tell "no GPU to
grade on" (``nb.require_gpu()`` skips it) from "a GPU was there and not used".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.checks._common import KernelObject, as_ref
from grader.probes.wire import Ref
from grader.testing.fixture import Notebook


@dataclass(frozen=True)
class ModelDevices:
    cuda_available: bool
    param_devices: list[str]
    buffer_devices: list[str]


@dataclass(frozen=True)
class StepDevices:
    cuda_available: bool
    #: Devices of every tensor the model received as input during the call.
    batch_devices: list[str]
    #: How many times the model's forward ran during the call.
    forward_calls: int
    #: Peak CUDA memory allocated during the call beyond what it started with; None without CUDA.
    peak_cuda_memory_bytes: int | None
    param_devices: list[str]
    #: The call's return value when it is a number (e.g. the mean loss), else None.
    result: float | int | bool | None
    #: ``Type: message`` if the call raised, else None.
    error: str | None


def _strings(value: Any) -> list[str]:
    if type(value) is not list or not all(type(v) is str for v in value):
        raise AssertionError("could not read the devices from the kernel")
    return value


def model_devices(nb: Notebook, model: KernelObject) -> ModelDevices:
    """Devices of a torch model's parameters and buffers, and whether the kernel has CUDA."""
    raw = nb.probe("torch.devices", model=as_ref(nb, model))
    if type(raw) is not dict:
        raise AssertionError("could not read the devices from the kernel")
    devices = ModelDevices(
        cuda_available=raw.get("cuda_available") is True,
        param_devices=_strings(raw.get("param_devices")),
        buffer_devices=_strings(raw.get("buffer_devices")),
    )
    nb.record("param_devices", devices.param_devices)
    return devices


def observe_training_step(
    nb: Notebook,
    model: KernelObject,
    function: str | Ref,
    *args: Any,
    timeout: float | None = None,
    **kwargs: Any,
) -> StepDevices:
    """Call ``function(*args, **kwargs)`` in the kernel and watch what ``model`` receives.

    Typically ``observe_training_step(nb, model, "train_one_epoch", model, loader,
    optimizer, loss_fn, device)`` with objects from :mod:`grader.checks.training`.
    """
    raw = nb.probe(
        "torch.observe_devices",
        timeout=timeout,
        model=as_ref(nb, model),
        function=function,
        args=list(args),
        kwargs=kwargs,
    )
    if type(raw) is not dict:
        raise AssertionError("could not read the training step's devices from the kernel")
    peak = raw.get("peak_cuda_memory_bytes")
    calls = raw.get("forward_calls")
    result = raw.get("result")
    error = raw.get("error")
    step = StepDevices(
        cuda_available=raw.get("cuda_available") is True,
        batch_devices=_strings(raw.get("batch_devices")),
        forward_calls=calls if type(calls) is int else 0,
        peak_cuda_memory_bytes=peak if type(peak) is int else None,
        param_devices=_strings(raw.get("param_devices")),
        result=result if type(result) in (int, float, bool) else None,
        error=error if type(error) is str else None,
    )
    nb.record("batch_devices", step.batch_devices)
    if step.peak_cuda_memory_bytes is not None:
        nb.record("peak_cuda_memory_bytes", step.peak_cuda_memory_bytes)
    return step


def _on(devices: list[str], kind: str) -> bool:
    return bool(devices) and all(d == kind or d.startswith(f"{kind}:") for d in devices)


def expect_model_on(devices: ModelDevices | StepDevices, kind: str = "cuda") -> None:
    """Every parameter is on a device of this kind (``cuda``, ``cpu``)."""
    if not devices.param_devices:
        raise AssertionError("the model has no parameters to place on a device")
    if not _on(devices.param_devices, kind):
        raise AssertionError(
            f"the model's parameters are on {', '.join(devices.param_devices)}, "
            f"expected {kind}: move the model with model.to(device)"
        )


def expect_step_ran(step: StepDevices) -> None:
    """The call finished without raising and ran the model at least once."""
    if step.error is not None:
        raise AssertionError(f"your training step raised {step.error}")
    if step.forward_calls == 0:
        raise AssertionError("your training step never called the model")


def expect_batches_on_model_device(step: StepDevices) -> None:
    """The model received its inputs on the device of its parameters (a call that raised fails)."""
    if not step.batch_devices:
        raise AssertionError("your training step never passed a tensor to the model")
    stray = [d for d in step.batch_devices if d not in step.param_devices]
    if stray:
        raise AssertionError(
            f"batches reached the model on {', '.join(stray)} while its parameters are on "
            f"{', '.join(step.param_devices)}: move each batch with .to(device)"
        )
    expect_step_ran(step)


def expect_batches_on(step: StepDevices, kind: str = "cuda") -> None:
    """Every input tensor the model received was on a device of this kind."""
    if not _on(step.batch_devices, kind):
        seen = ", ".join(step.batch_devices) or "no device (the model was never called)"
        raise AssertionError(f"batches reached the model on {seen}, expected {kind}")


def expect_cuda_memory_used(step: StepDevices, min_bytes: int = 1) -> None:
    """The step allocated at least ``min_bytes`` of CUDA memory at its peak."""
    if not step.cuda_available or step.peak_cuda_memory_bytes is None:
        raise AssertionError("CUDA was not available in the kernel")
    if step.peak_cuda_memory_bytes >= min_bytes:
        return
    raise AssertionError(
        f"the training step allocated {step.peak_cuda_memory_bytes:,} bytes of GPU memory, "
        f"expected at least {min_bytes:,}: the work did not run on the GPU"
    )
