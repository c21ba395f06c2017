"""The wire format between the grader and the kernel: JSON plus `.npy`, never pickle.

Both sides import this module. The kernel side *encodes* what student code
produced; the grader side *decodes* it, and decoding treats every byte as hostile:
it checks depth, string length, array dtype and array size before building
anything, and loads arrays with ``allow_pickle=False`` so no object can be
smuggled across.

Every container is tagged so that a decoded value has exactly one reading:

* ``None``, ``bool``, ``int``, ``str`` and finite ``float`` travel as plain JSON;
* ``{"$float": "nan" | "inf" | "-inf"}`` for the non-finite floats JSON lacks;
* ``{"$list": [...]}``, ``{"$tuple": [...]}``, ``{"$dict": {"key": ...}}``;
* ``{"$ndarray": "<base64 of a .npy file>"}`` for numeric or boolean arrays;
* ``{"$ref": "r7"}`` for an object that stays in the kernel (a model, a loader).

This module imports only the standard library and NumPy, so it can run inside
any kernel that has NumPy.
"""

from __future__ import annotations

import base64
import io
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The MIME type of a reply published by the kernel side.
REPLY_MIME = "application/vnd.dlgrader.reply+json"

#: Array kinds allowed across the boundary: bool, signed, unsigned, float, complex.
ARRAY_KINDS = frozenset("biufc")


class WireError(ValueError):
    """A message broke the wire format: too deep, too big, or of a forbidden type."""


@dataclass(frozen=True)
class Ref:
    """A handle on an object that lives in the kernel, such as a student's model."""

    id: str

    def __repr__(self) -> str:
        return f"<kernel object {self.id}>"


@dataclass(frozen=True)
class Limits:
    """Bounds on one decoded message; a message over any of them is rejected whole."""

    max_depth: int = 32
    max_items: int = 100_000
    max_string: int = 1_000_000
    max_array_bytes: int = 256 * 1024 * 1024


DEFAULT_LIMITS = Limits()


class Unencodable(TypeError):
    """Raised on the encoding side for a value with no wire form."""


def encode(value: Any, *, to_ref=None, _depth: int = 0) -> Any:
    """Turn a Python value into its tagged JSON form.

    ``to_ref`` is called for values with no plain-data form (a model, a loader)
    and must return a :class:`Ref`; without it such values raise
    :class:`Unencodable`.
    """
    if _depth > DEFAULT_LIMITS.max_depth:
        raise Unencodable("value nested too deeply to transfer")
    # Exact type checks: a subclass of int or str can override anything.
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is str:
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, np.generic) and type(value).__module__ == "numpy":
        return encode(value.item(), to_ref=to_ref, _depth=_depth + 1)
    if kind is Ref:
        return {"$ref": value.id}
    if kind is list or kind is tuple:
        tag = "$list" if kind is list else "$tuple"
        numbers = _plain_numbers(value)
        if numbers is not None:
            return {tag: numbers}
        return {tag: [encode(v, to_ref=to_ref, _depth=_depth + 1) for v in value]}
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise Unencodable("only dictionaries with string keys can be transferred")
        return {"$dict": {k: encode(v, to_ref=to_ref, _depth=_depth + 1) for k, v in value.items()}}
    array = _as_plain_array(value)
    if array is not None:
        return {"$ndarray": _npy_b64(array)}
    if to_ref is not None:
        return {"$ref": to_ref(value).id}
    raise Unencodable(f"a value of type {kind.__name__} cannot be transferred")


def _plain_numbers(values: list | tuple) -> list | None:
    """``values`` as plain ints and finite floats, or None if any item is something else.

    The fast path for a list of numbers (a training run's losses: thousands per request),
    giving what item-by-item encoding gives without a call per item.
    """
    out = []
    for value in values:
        kind = type(value)
        if kind is int:
            out.append(value)
        elif kind is float or kind is np.float64 or kind is np.float32:
            number = float(value)
            if not math.isfinite(number):
                return None
            out.append(number)
        else:
            return None
    return out


def _as_plain_array(value: Any) -> np.ndarray | None:
    """A NumPy copy of arrays and framework tensors, or None for anything else."""
    if type(value) is np.ndarray:
        array = value
    else:
        module = type(value).__module__ or ""
        if module.startswith("torch") and hasattr(value, "detach"):
            array = value.detach().cpu().numpy()
        elif module.startswith(("tensorflow", "keras")) and hasattr(value, "numpy"):
            array = np.asarray(value.numpy())
        else:
            return None
    if array.dtype.kind not in ARRAY_KINDS:
        raise Unencodable(f"arrays of dtype {array.dtype} cannot be transferred")
    return np.require(array, requirements="C")  # keeps 0-d arrays 0-d, unlike ascontiguousarray


def _npy_b64(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def dumps(value: Any, *, to_ref=None) -> str:
    """Encode and serialise in one step."""
    return json.dumps(encode(value, to_ref=to_ref), allow_nan=False)


def decode(data: Any, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Rebuild a value from its tagged JSON form, validating as it goes."""
    budget = {"items": 0, "array_bytes": 0}
    return _decode(data, limits, budget, 0)


def _decode(data: Any, limits: Limits, budget: dict[str, int], depth: int) -> Any:
    if depth > limits.max_depth:
        raise WireError("message nested too deeply")
    budget["items"] += 1
    if budget["items"] > limits.max_items:
        raise WireError("message has too many items")
    kind = type(data)
    if data is None or kind is bool or kind is int:
        return data
    if kind is float:
        if not math.isfinite(data):
            raise WireError("non-finite float outside a $float tag")
        return data
    if kind is str:
        if len(data) > limits.max_string:
            raise WireError("string too long")
        return data
    if kind is not dict or len(data) != 1:
        raise WireError(f"untagged {kind.__name__} in message")
    ((tag, body),) = data.items()
    if tag == "$float":
        if body not in ("nan", "inf", "-inf"):
            raise WireError("bad $float value")
        return float(body)
    if tag in ("$list", "$tuple"):
        if type(body) is not list:
            raise WireError(f"{tag} body must be a list")
        items = _numbers(body, limits, budget)
        if items is None:
            items = [_decode(v, limits, budget, depth + 1) for v in body]
        return items if tag == "$list" else tuple(items)
    if tag == "$dict":
        if type(body) is not dict:
            raise WireError("$dict body must be an object")
        return {_key(k, limits): _decode(v, limits, budget, depth + 1) for k, v in body.items()}
    if tag == "$ndarray":
        return _load_array(body, limits, budget)
    if tag == "$ref":
        if type(body) is not str or not body.isidentifier() or len(body) > 64:
            raise WireError("bad $ref id")
        return Ref(body)
    raise WireError(f"unknown tag {tag[:40]!r}")


def _numbers(body: list, limits: Limits, budget: dict[str, int]) -> list | None:
    """A copy of ``body`` if every item is an int or a finite float, else None.

    What decoding item by item gives such a list, budget included, without a call per item.
    """
    for value in body:
        kind = type(value)
        if not (kind is int or (kind is float and math.isfinite(value))):
            return None
    budget["items"] += len(body)
    if budget["items"] > limits.max_items:
        raise WireError("message has too many items")
    return list(body)


def _key(key: Any, limits: Limits) -> str:
    if type(key) is not str or len(key) > limits.max_string:
        raise WireError("bad dictionary key")
    return key


def _load_array(body: Any, limits: Limits, budget: dict[str, int]) -> np.ndarray:
    if type(body) is not str:
        raise WireError("$ndarray body must be a base64 string")
    # base64 is 4 characters for 3 bytes: refuse before decoding anything big.
    if len(body) * 3 // 4 > limits.max_array_bytes - budget["array_bytes"]:
        raise WireError("arrays in message exceed the size limit")
    try:
        raw = base64.b64decode(body, validate=True)
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise WireError(f"unreadable array: {exc}") from None
    if type(array) is not np.ndarray or array.dtype.kind not in ARRAY_KINDS:
        raise WireError("array of a forbidden dtype")
    budget["array_bytes"] += array.nbytes
    return array
