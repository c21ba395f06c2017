"""The ``nb`` object that public and hidden tests receive.

A test asks the live kernel for values and measurements through ``nb`` and
asserts on them here, in the grader's process::

    def test_parameter_count(nb):
        counts = nb.probe("torch.param_counts", model=nb.new("LeNet5"))
        assert counts["total"] == 62_006, f"{counts['total']:,} parameters, expected 62,006"

Only names, plain data and arrays go into the kernel; the expected values stay
in the test file. :meth:`Notebook.local` backs the same object with the namespace of
the kernel it runs in, for a student's in-notebook ``check()``.
"""

from __future__ import annotations

from typing import Any

import pytest

from grader.bridge import Bridge, KernelDied, Ref


class GPUUnavailable(pytest.skip.Exception):
    """Skip raised by :meth:`Notebook.require_gpu`; the rubric decides what it means."""


class KernelNotRunning(pytest.skip.Exception):
    """Skip raised when the kernel stopped before this test could ask it anything."""


class Notebook:
    """One test's view of the student's live kernel."""

    def __init__(self, bridge: Bridge, context: dict[str, Any]) -> None:
        self._bridge = bridge
        self.context = context
        #: Values this test measured; they go into the results and the rubric's bands.
        self.measured: dict[str, Any] = {}
        #: What the student should know even when the test passes (a default used).
        self.notes: list[str] = []

    @classmethod
    def local(cls, context: dict[str, Any] | None = None, request_timeout: float = 0) -> Notebook:
        """An ``nb`` on the namespace of the kernel this code runs in (the student's own).

        The same requests and the same wire encoding as grading; only the backing differs
        (:class:`grader.testing.local.LocalBridge`, which ``check()`` hands the plugin).
        Handy for trying a test's requests by hand in a notebook.
        """
        from grader.testing.local import LocalBridge

        return cls(LocalBridge(request_timeout), context or {})

    # -- what a test reads -------------------------------------------------------

    @property
    def tier(self) -> str:
        """The data tier being graded: ``full`` or ``offline``."""
        return str(self.context.get("tier") or "offline")

    @property
    def gpu_available(self) -> bool:
        """Whether the grading machine has a GPU the notebook can use.

        The grader decides this (the runner's enforcement), not the kernel, so a test can
        branch on it without a round trip; :meth:`require_gpu` is the usual way to use it.
        """
        return bool(self.context.get("gpu_available", False))

    def get(self, name: str) -> Any:
        """The value of a variable (or dotted attribute) in the notebook, as plain data."""
        return self._guard(self._bridge.get, name)

    def ref(self, name: str) -> Ref:
        """A handle on a notebook object that is not plain data, e.g. ``model``."""
        return self._guard(self._bridge.request, "get", target=name, result="ref")

    def exists(self, name: str) -> bool:
        """Whether the notebook defines `name` (a variable, function or class).

        Dotted names work too (``"model.fc"``). Lets a test give its own message, or take
        another path, where :meth:`get` would fail with "the notebook defines no ...".
        """
        return self._guard(self._bridge.exists, name)

    def call(self, target: str | Ref, /, *args: Any, **kwargs: Any) -> Any:
        """Call a notebook function; plain results come back, other objects as a Ref."""
        return self._guard(self._bridge.call_with, target, args, kwargs, "auto")

    def new(self, class_name: str, /, *args: Any, **kwargs: Any) -> Ref:
        """Construct a notebook class; the instance stays in the kernel."""
        return self._guard(self._bridge.call_with, class_name, args, kwargs, "ref")

    def method(self, obj: Ref, name: str, /, *args: Any, **kwargs: Any) -> Any:
        """Call ``obj.name(*args, **kwargs)`` on a kernel object."""
        return self._guard(
            self._bridge.request,
            "call",
            target={"$ref": obj.id},
            attrs=[name],
            args=_enc(list(args)),
            kwargs=_enc(kwargs),
            result="auto",
        )

    def probe(self, name: str, /, *, timeout: float | None = None, **kwargs: Any) -> Any:
        """Run a measurement from the probe library inside the kernel."""
        return self._guard(self._bridge.probe, name, timeout=timeout, **kwargs)

    def uses(self, name: str) -> bool:
        """Whether the notebook's own cells assign or read ``name`` (from its source).

        False for a name only the grader's injected parameters cell defines: a notebook
        that hard-codes ``range(3)`` does not use an injected ``EPOCHS``. Without the
        source (an in-notebook check), whether the name exists.
        """
        names = self.context.get("notebook_names")
        if names is None:
            return self.exists(name)
        return name in names

    def setting(self, name: str) -> Any:
        """The value of an optional interface name as the notebook really uses it.

        The notebook's own value when its cells use ``name``; otherwise the lab's declared
        default (``interface.optional`` in assignment.yaml), with a note in the detail. A
        name the lab does not declare optional is read like :meth:`get`.
        """
        defaults = self.context.get("interface_defaults") or {}
        if name not in defaults or (self.uses(name) and self.exists(name)):
            return self.get(name)
        value = defaults[name]
        self.note(
            f"your notebook does not use {name}; the lab's default {name} = {value!r} was used"
        )
        return value

    def call_keep(self, target: str | Ref, /, *args: Any, **kwargs: Any) -> Ref:
        """Call a notebook function and keep its result in the kernel (a tensor, say)."""
        return self._guard(self._bridge.call_with, target, args, kwargs, "ref")

    # -- what a test reports -----------------------------------------------------

    def note(self, text: str) -> None:
        """Tell the student something in the criterion's detail, pass or fail."""
        if text not in self.notes:
            self.notes.append(text)

    def record(self, key: str, value: Any) -> Any:
        """Keep a measured value for the report, and for the rubric's bands."""
        self.measured[key] = value
        return value

    def require_gpu(self) -> None:
        """Skip as 'needs a GPU' when grading happens without one."""
        if not self.gpu_available:
            raise GPUUnavailable("needs a GPU", allow_module_level=False)

    def _guard(self, func, /, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KernelDied as exc:
            raise KernelNotRunning(f"not run: {exc}") from None


def _enc(value: Any) -> Any:
    from grader.probes import wire

    return wire.encode(value)
