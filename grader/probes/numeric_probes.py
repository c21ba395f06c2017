"""NumPy measurements taken inside the kernel: gradients of hand-written networks.

The gradient probe calls the student's ``forward``, ``loss`` and ``backward``
and returns both their analytic gradients and our centred finite differences,
as arrays; the grader computes the relative errors. It also counts how often
``forward`` runs *during* ``backward``: a "backward" that differentiates
numerically by calling ``forward`` passes on values alone, so the count is the
evidence that the gradient was derived by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from grader.probes import kernel
from grader.probes.library import probe


def _float64_copy(params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Our own float64 copies: the student's arrays are never perturbed or mutated."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays, got a {type(params).__name__}")
    return {str(k): np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}


def _prediction(output: Any) -> Any:
    """``forward`` returns ``(Y_hat, cache)``; tolerate a bare ``Y_hat`` too."""
    return output[0] if isinstance(output, tuple) else output


@contextmanager
def _counting_calls(name: str) -> Iterator[list[int]]:
    """Swap the notebook's global ``name`` for a counting wrapper while the block runs.

    Notebook functions look globals up in the kernel's namespace at call time, so
    a ``backward`` that calls ``forward`` goes through the wrapper.
    """
    counter = [0]
    namespace = kernel._namespace()
    original = namespace.get(name)
    if "." in name or not callable(original):
        yield counter
        return

    def counted(*args: Any, **kwargs: Any) -> Any:
        counter[0] += 1
        return original(*args, **kwargs)

    namespace[name] = counted
    try:
        yield counter
    finally:
        if namespace.get(name) is counted:
            namespace[name] = original


def _analytic(grads: Any) -> tuple[dict[str, np.ndarray], list[str]]:
    """The student's gradients as float64 arrays, and the keys that are not numeric arrays."""
    if not isinstance(grads, Mapping):
        raise TypeError(f"backward must return a dict of gradients, not a {type(grads).__name__}")
    arrays: dict[str, np.ndarray] = {}
    unreadable: list[str] = []
    for key, value in grads.items():
        try:
            arrays[str(key)] = np.array(value, dtype=np.float64, copy=True)
        except (TypeError, ValueError):
            unreadable.append(str(key))
    return arrays, unreadable


@probe("numeric.gradient_check")
def gradient_check(
    params: Mapping[str, Any],
    X: Any,  # noqa: N803 - the curriculum's names
    Y: Any,  # noqa: N803
    forward: str = "forward",
    loss: str = "loss",
    backward: str = "backward",
    h: float = 1e-5,
    max_entries: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Analytic gradients from the student's ``backward`` and centred differences of ``loss``.

    ``max_entries`` caps the finite differences per parameter (a seeded random
    sample of entries, listed in ``indices``) for parameters too large to
    difference entry by entry.
    """
    forward_fn: Callable[..., Any] = kernel.lookup(forward)
    loss_fn: Callable[..., Any] = kernel.lookup(loss)
    backward_fn: Callable[..., Any] = kernel.lookup(backward)
    inputs = np.array(X, dtype=np.float64, copy=True)
    targets = np.array(Y, dtype=np.float64, copy=True)

    _, cache = forward_fn(_float64_copy(params), inputs.copy())
    with _counting_calls(forward) as forward_calls:
        grads = backward_fn(_float64_copy(params), cache, targets.copy())
    analytic, unreadable = _analytic(grads)

    work = _float64_copy(params)

    def objective() -> float:
        output = forward_fn(dict(work), inputs.copy())
        return float(loss_fn(_prediction(output), targets.copy()))

    rng = np.random.default_rng(seed)
    numeric: dict[str, np.ndarray] = {}
    indices: dict[str, np.ndarray] = {}
    for key, array in work.items():
        flat = array.reshape(-1)  # a view: perturbing it perturbs work[key]
        if max_entries is not None and flat.size > max_entries:
            chosen = np.sort(rng.choice(flat.size, size=max_entries, replace=False))
            indices[key] = chosen.astype(np.int64)
        else:
            chosen = np.arange(flat.size)
        values = np.empty(chosen.size, dtype=np.float64)
        for out_pos, i in enumerate(chosen):
            saved = flat[i]
            flat[i] = saved + h
            plus = objective()
            flat[i] = saved - h
            minus = objective()
            flat[i] = saved
            values[out_pos] = (plus - minus) / (2 * h)
        numeric[key] = values.reshape(array.shape) if key not in indices else values
    return {
        "analytic": analytic,
        "numeric": numeric,
        "indices": indices,
        "shapes": {key: list(array.shape) for key, array in work.items()},
        "unreadable": unreadable,
        "forward_calls_in_backward": forward_calls[0],
    }
