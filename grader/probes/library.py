"""The registry of probes: named measurements that run inside the kernel.

A probe takes keyword arguments (plain data, arrays, or kernel objects resolved
from references) and returns raw measurements as plain data: counts, shapes,
losses, arrays. It never returns a verdict; thresholds live in the tests.

Probes are grouped by what they need (``torch.*``, ``keras.*``, ``numeric.*``,
``env.*``); a group's module is imported on first use, so a NumPy-only
notebook never pays for importing torch or TensorFlow.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

Probe = Callable[..., Any]

#: Probe-name prefix -> modules defining the probes of that group.
GROUPS: dict[str, tuple[str, ...]] = {
    "torch": (
        "grader.probes.torch_probes",
        "grader.probes.torch_training_probes",
        "grader.probes.torch_step_probes",
        "grader.probes.torch_update_probes",
    ),
    "keras": (
        "grader.probes.keras_probes",
        "grader.probes.keras_fit_probes",
        "grader.probes.keras_freeze_probes",
    ),
    "numeric": ("grader.probes.numeric_probes",),
    "env": ("grader.probes.env_probes",),
}

_PROBES: dict[str, Probe] = {}


def probe(name: str) -> Callable[[Probe], Probe]:
    """Register a function as the probe ``name`` (``group.measurement``)."""

    def register(func: Probe) -> Probe:
        _PROBES[name] = func
        return func

    return register


def run(name: str, kwargs: dict[str, Any]) -> Any:
    """Run the probe ``name``; unknown names raise ``LookupError``."""
    if name not in _PROBES:
        group = name.partition(".")[0]
        if group not in GROUPS:
            raise LookupError(f"no probe group {group!r}")
        for module in GROUPS[group]:
            importlib.import_module(module)
    if name not in _PROBES:
        raise LookupError(f"no probe named {name!r}")
    return _PROBES[name](**kwargs)


def names() -> list[str]:
    """Every probe, after importing every group that imports on this machine."""
    for modules in GROUPS.values():
        for module in modules:
            try:
                importlib.import_module(module)
            except ImportError:
                continue
    return sorted(_PROBES)
