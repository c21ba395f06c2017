"""The runner seam: what every runner (local sandbox, Docker) provides.

A runner only starts a kernel, hands back a kernel manager connected to it, and
says which limits it actually enforced. Executing cells, talking to the kernel
and judging are other modules' jobs, so a new runner is a small file.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from jupyter_client.manager import AsyncKernelManager

from grader.config import Limits


@dataclass
class Enforcement:
    """What the runner really enforced, reported in every result."""

    runner: str
    sandbox: str
    network_blocked: bool
    filesystem_private: bool
    memory_limit_mb: int | None
    cpu_limit_s: int | None
    pid_namespace: bool = False
    gpu_available: bool = False
    process_limit: int | None = None
    cpu_quota: float | None = None
    disk_limit_mb: int | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class KernelSession:
    """A started kernel: its manager, its private folder and what confines it."""

    manager: AsyncKernelManager
    workdir: Path
    enforcement: Enforcement
    #: Which limits the kernel ran into ("memory limit", "process limit"), asked after a run.
    breaches: Callable[[], list[str]] = lambda: []
    #: Start the next session's kernel now, while this one's tests run; a no-op unless
    #: the runner keeps a kernel pool (batch workers of the local runner).
    prepare_next: Callable[[], None] = lambda: None


class Runner(Protocol):
    """Starts a kernel for one submission and tears it down completely afterwards."""

    name: str

    def enforcement(self, limits: Limits) -> Enforcement:
        """What this runner would enforce for ``limits``, before starting anything."""
        ...

    def session(
        self,
        limits: Limits,
        env: dict[str, str] | None = None,
        data: Path | None = None,
        submission: Path | None = None,
    ) -> AbstractContextManager[KernelSession]:
        """A context in which the kernel is running; leaving it kills the kernel's tree.

        ``env`` adds variables to the kernel's otherwise clean environment. ``data`` is
        an assignment's data folder, copied to ``data/`` in the kernel's working folder:
        the same relative path the released stub finds it at. ``submission`` is the
        notebook being graded; a runner may show it to the kernel read-only (the cells
        themselves always arrive through the kernel protocol).
        """
        ...

    def warm_up(
        self, limits: Limits, env: dict[str, str] | None = None, data: Path | None = None
    ) -> None:
        """Start the kernel of a coming :meth:`session` with these arguments now, where
        the runner keeps a kernel pool (a batch worker's); otherwise do nothing."""
        ...


class RunnerUnavailable(RuntimeError):
    """The runner cannot work on this machine (no engine, no image); says what to do."""
