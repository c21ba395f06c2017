"""Gradient checks: a hand-written NumPy backward pass, and a custom torch autograd function.

The kernel returns the student's analytic gradients and our numerical ones as
plain arrays; every comparison happens here, so patching ``np.allclose``,
``torch.allclose`` or ``abs`` inside the kernel changes nothing. All pass
conditions are written ``err < tol`` so that NaN fails.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks._common import KernelObject, as_ref, float_array, fmt_number, fmt_shape
from grader.probes.wire import Ref
from grader.testing.fixture import Notebook

Shape = tuple[int, ...]


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``max(|a - b| / max(1e-8, |a| + |b|))`` element-wise (the CS231n measure); NaN propagates."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    ratio = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    return float(np.max(ratio)) if not np.isnan(ratio).any() else math.nan


def _worst(errors: Mapping[str, float]) -> tuple[str, float]:
    """The key with the largest error, NaN counting as the largest."""
    return max(errors.items(), key=lambda item: (math.isnan(item[1]), item[1]))


@dataclass(frozen=True)
class GradientCheck:
    #: Relative error per gradient key (``dW1`` ...), for the keys present with the right shape.
    errors: dict[str, float]
    #: Gradient keys the backward pass should have returned but did not (or not as arrays).
    missing: list[str]
    #: Gradient key -> (shape returned, shape of the parameter).
    wrong_shapes: dict[str, tuple[Shape, Shape]]
    #: How many times ``forward`` ran while ``backward`` did.
    forward_calls_in_backward: int


def gradient_check(
    nb: Notebook,
    params: Mapping[str, np.ndarray] | KernelObject,
    X: np.ndarray,  # noqa: N803 - the curriculum's names
    Y: np.ndarray,  # noqa: N803
    *,
    forward: str = "forward",
    loss: str = "loss",
    backward: str = "backward",
    h: float = 1e-5,
    max_entries: int | None = None,
    timeout: float | None = None,
) -> GradientCheck:
    """Compare the student's ``backward`` with centred differences of ``loss(forward(...))``.

    ``params`` is a dict of arrays (sent to the kernel) or a kernel object / name
    holding one. The gradient of parameter ``W1`` is expected under ``dW1``.
    """
    sent: Any = (
        {str(k): np.asarray(v, dtype=np.float64) for k, v in params.items()}
        if isinstance(params, Mapping)
        else as_ref(nb, params)
    )
    raw = nb.probe(
        "numeric.gradient_check",
        timeout=timeout,
        params=sent,
        X=np.asarray(X, dtype=np.float64),
        Y=np.asarray(Y, dtype=np.float64),
        forward=forward,
        loss=loss,
        backward=backward,
        h=float(h),
        max_entries=max_entries,
    )
    if type(raw) is not dict or not all(
        type(raw.get(key)) is dict for key in ("analytic", "numeric", "indices", "shapes")
    ):
        raise AssertionError("could not read the gradient check from the kernel")
    analytic, numeric, indices, shapes = (
        raw["analytic"],
        raw["numeric"],
        raw["indices"],
        raw["shapes"],
    )
    errors: dict[str, float] = {}
    missing: list[str] = []
    wrong_shapes: dict[str, tuple[Shape, Shape]] = {}
    for key, numeric_values in numeric.items():
        grad_key = f"d{key}"
        shape = tuple(int(d) for d in shapes.get(key, []))
        if grad_key not in analytic or type(analytic[grad_key]) is not np.ndarray:
            missing.append(grad_key)
            continue
        got = float_array(analytic[grad_key], f"the gradient {grad_key}")
        if got.shape != shape:
            wrong_shapes[grad_key] = (got.shape, shape)
            continue
        if key in indices:
            got = got.reshape(-1)[np.asarray(indices[key], dtype=np.int64)]
        errors[grad_key] = relative_error(got, float_array(numeric_values, "a numerical gradient"))
    calls = raw.get("forward_calls_in_backward")
    result = GradientCheck(
        errors=errors,
        missing=missing,
        wrong_shapes=wrong_shapes,
        forward_calls_in_backward=calls if type(calls) is int else -1,
    )
    if errors:
        nb.record("gradient_rel_error", _worst(errors)[1])
    nb.record("forward_calls_in_backward", result.forward_calls_in_backward)
    return result


def expect_gradients_match(result: GradientCheck, tol: float = 1e-5) -> None:
    """Every gradient is present, shaped like its parameter, and within ``tol`` relative error.

    1e-5, not 1e-7: correct float64 code reaches ~3e-8 on tiny entries.
    """
    if result.missing:
        raise AssertionError(f"backward returned no {', '.join(result.missing)}")
    if result.wrong_shapes:
        key, (got, want) = next(iter(result.wrong_shapes.items()))
        raise AssertionError(f"{key} has shape {fmt_shape(got)}, expected {fmt_shape(want)}")
    if not result.errors:
        raise AssertionError("there were no gradients to check")
    key, error = _worst(result.errors)
    if error < tol:
        return
    raise AssertionError(
        f"{key} does not match the numerical gradient: relative error {fmt_number(error)} "
        f"(tolerance {fmt_number(tol)})"
    )


def expect_analytic_backward(result: GradientCheck, max_forward_calls: int = 0) -> None:
    """``backward`` computed its gradients itself rather than by calling ``forward`` repeatedly."""
    calls = result.forward_calls_in_backward
    if 0 <= calls <= max_forward_calls:
        return
    if calls < 0:
        raise AssertionError("could not count the calls of forward made by backward")
    raise AssertionError(
        f"backward called forward {calls} times: compute the gradients with the chain rule, "
        "not by finite differences"
    )


@dataclass(frozen=True)
class JacobianCheck:
    #: One (output elements x input elements) matrix per differentiable input, from backward.
    analytic: list[np.ndarray]
    #: The same from centred differences of the forward computation.
    numeric: list[np.ndarray]
    output_dtype: str
    output_requires_grad: bool


def autograd_check(
    nb: Notebook,
    function: str | Ref,
    inputs: Sequence[np.ndarray],
    *,
    eps: float = 1e-6,
    timeout: float | None = None,
) -> JacobianCheck:
    """Jacobians of a torch callable by its backward and by finite differences (float64).

    ``function`` names a notebook callable or a ``torch.autograd.Function``
    subclass (its ``apply`` is used), or is a kernel object. Float inputs are
    converted to float64 and differentiated; integer inputs are passed as they are.
    """
    target: Any = function if isinstance(function, Ref) else str(function)
    raw = nb.probe(
        "torch.jacobians",
        timeout=timeout,
        function=target,
        inputs=[np.asarray(v) for v in inputs],
        eps=float(eps),
    )
    if type(raw) is not dict or type(raw.get("analytic")) is not list:
        raise AssertionError("could not read the Jacobians from the kernel")
    analytic = [float_array(a, "an analytic Jacobian") for a in raw["analytic"]]
    numeric = [float_array(n, "a numerical Jacobian") for n in raw.get("numeric", [])]
    return JacobianCheck(
        analytic=analytic,
        numeric=numeric,
        output_dtype=str(raw.get("output_dtype")),
        output_requires_grad=raw.get("output_requires_grad") is True,
    )


def expect_jacobians_match(
    result: JacobianCheck, *, atol: float = 1e-5, rtol: float = 1e-3
) -> None:
    """``|analytic - numerical| <= atol + rtol * |numerical|`` everywhere (gradcheck's test)."""
    if not result.output_requires_grad:
        raise AssertionError(
            "the function's output does not require grad: it is cut off from the autograd graph"
        )
    if len(result.analytic) != len(result.numeric) or not result.analytic:
        raise AssertionError("there were no Jacobians to compare")
    for position, (a, n) in enumerate(zip(result.analytic, result.numeric, strict=True)):
        if a.shape != n.shape:
            raise AssertionError(f"input {position + 1}: Jacobian shapes differ")
        difference = np.abs(a - n)
        close = difference <= atol + rtol * np.abs(n)
        if bool(np.all(close)):
            continue
        flat = int(np.argmax(np.where(close, -1.0, np.nan_to_num(difference, nan=np.inf))))
        row, col = np.unravel_index(flat, a.shape)
        raise AssertionError(
            f"the backward pass disagrees with the numerical gradient for input {position + 1}: "
            f"d output[{row}] / d input[{col}] is {fmt_number(float(a[row, col]))} by backward, "
            f"{fmt_number(float(n[row, col]))} numerically"
        )
