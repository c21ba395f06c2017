"""Helpers shared by the checks: kernel handles, framework detection, number formatting.

Nothing here trusts the kernel: values arrive decoded by the wire format, and
every conversion to a number or an array is re-done here with exact types, so
that a malformed probe reply fails a check with a message instead of passing it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from grader.probes.wire import Ref
from grader.testing.fixture import Notebook

Framework = Literal["torch", "keras"]
#: A kernel object given as a handle, or as the notebook variable that holds it.
KernelObject = Ref | str


def as_ref(nb: Notebook, obj: KernelObject) -> Ref:
    """A handle on ``obj``: Refs pass through, names are looked up in the notebook."""
    return obj if isinstance(obj, Ref) else nb.ref(obj)


def framework_of(nb: Notebook, model: Ref, framework: str | None) -> Framework:
    """The probe group for ``model``: as given, or asked of the kernel (one cheap request)."""
    if framework is None:
        framework = nb.probe("env.framework_of", obj=model)
    if framework in ("torch", "pytorch"):
        return "torch"
    if framework in ("keras", "tensorflow"):
        return "keras"
    raise AssertionError(
        "the object is neither a PyTorch nn.Module nor a Keras model; the check cannot measure it"
    )


def plain_int(value: Any, what: str) -> int:
    """An exact ``int`` from a probe reply (bool excluded), or a student-readable failure."""
    if type(value) is not int:
        raise AssertionError(f"could not read {what} from the kernel (got {type(value).__name__})")
    return value


def float_list(values: Any, what: str) -> list[float]:
    """A list of Python floats from a probe reply or a student's list; NaN stays NaN."""
    try:
        array = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} is not a list of numbers") from None
    return [float(v) for v in array]


def float_array(value: Any, what: str) -> np.ndarray:
    """A float64 copy of a numeric array (bool and complex refused), else a failure message."""
    if type(value) is not np.ndarray or value.dtype.kind not in "iuf":
        raise AssertionError(f"{what} is not a numeric array")
    return value.astype(np.float64, copy=True)


def shape_tuple(value: Any) -> tuple[int, ...] | None:
    """A probe's shape (a list of ints) as a tuple; None if it is not a single tensor's shape."""
    if type(value) in (list, tuple) and all(type(d) is int for d in value):
        return tuple(value)
    return None


def fmt_shape(shape: Sequence[Any] | None) -> str:
    if shape is None:
        return "no tensor"
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def fmt_number(value: float) -> str:
    """A short, readable number for messages: 0.0123, 2.303, 1.2e-07, nan."""
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
        return f"{value:.2e}"
    return f"{value:.4g}"
