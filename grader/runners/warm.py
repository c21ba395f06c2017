"""A kernel started ahead of need, for the next submission a batch worker grades.

Starting a sandboxed kernel (bubblewrap, Python, ipykernel: about 0.3-0.5 s) and
importing the notebook's framework (matplotlib 0.4 s, torch 1-2 s, TensorFlow 3-5 s)
sat on every grading's critical path. A batch worker grades one submission after
another with the same limits and data, so while one submission's tests run, the next
submission's kernel can start and import: on a machine with a spare core, that time
comes off every grading.

Each kernel is still used for one submission only. Before the student's cells arrive it
has run nothing but the imports, as one *silent* execution (no execution count, no
history, no output, nothing bound in the notebook's namespace): the notebook sees
``sys.modules`` already holding those modules, as if another cell had imported them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from jupyter_core.utils import run_sync

from grader import kernels
from grader.runners.zygote import Zygote

log = logging.getLogger(__name__)

#: How long a waiting kernel may still be importing when its submission arrives.
IMPORT_WAIT_S = 120.0


class KernelBox(Protocol):
    """What a runner keeps per kernel: its manager, and how to remove all of it."""

    manager: Any

    def close(self) -> None:
        """Kill the kernel and remove its folder and cgroup; safe to call twice."""
        ...


@dataclass
class WarmKernel:
    """A started kernel (and what it lives in), waiting for a session of kind ``key``."""

    key: str
    box: KernelBox
    #: The client that sent the imports, and that request's id: replied to = imported.
    client: Any = None
    imports_id: str | None = None


def start_imports(manager: Any, modules: tuple[str, ...]) -> tuple[Any, str | None]:
    """Ask a just-started kernel to import ``modules``; return the client and request id.

    The request is queued by ZeroMQ until the kernel binds its sockets, so this does not
    wait for the kernel to boot. The statement binds no name: ``__import__`` inside a
    comprehension, whose value (``None``) a silent execution does not display.
    """
    client = kernels.blocking_client(manager)
    client.start_channels()
    if not modules:
        return client, None
    code = f"[__import__(m) for m in {json.dumps(list(modules))}] and None"
    return client, client.execute(code, silent=True, store_history=False, allow_stdin=False)


def finish_imports(warm: WarmKernel, timeout: float = IMPORT_WAIT_S) -> bool:
    """Wait for the kernel's reply to the imports; True when it answered in time.

    A failed import still counts as answered: the notebook meets the same error in its
    own cell, which is where the student should see it.
    """
    client, msg_id = warm.client, warm.imports_id
    try:
        if msg_id is None:
            return True
        arrives = run_sync(kernels.reply_arrives)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if arrives(client, msg_id, min(deadline, time.monotonic() + 1.0)):
                return True
            if not kernels.call(warm.box.manager, "is_alive"):
                return False
        return False
    finally:
        if client is not None:
            client.stop_channels()
        warm.client = None


class KernelPool:
    """Holds at most one warm kernel; a batch worker keeps one pool for its lifetime.

    The pool is the worker's, not the runner's: a worker builds a runner per task. Close
    it when the worker stops, or the last warm kernel outlives the batch (bubblewrap's
    ``--die-with-parent`` still ends it if the worker process dies).
    """

    def __init__(self) -> None:
        self._waiting: WarmKernel | None = None
        #: Kernels handed out warm, and ones thrown away unused (wrong kind, died, too slow).
        self.used = 0
        self.discarded = 0
        #: Whether this pool's first session found a kernel of its kind waiting (None: no
        #: session yet).
        self.first_was_warm: bool | None = None
        #: False once the owner knows no session follows (the last notebook of a list).
        self.expect_more = True
        #: The zygote of each recipe's key (None: starting one failed, so those kernels
        #: start cold).
        self._zygotes: dict[str, Zygote | None] = {}
        self._replaced: set[str] = set()

    def adopt(self, key: str, zygote: Zygote) -> None:
        """Use ``zygote`` (another process's, attached) for recipe ``key`` while it lives."""
        self._zygotes.setdefault(key, zygote)

    def zygote(self, key: str, start: Callable[[], Zygote]) -> Zygote | None:
        """The zygote for recipe ``key``, started with ``start`` if none was adopted; one
        that ended is replaced once, and after that (or a failed start) kernels of that
        recipe start cold."""
        zygote = self._zygotes.get(key)
        if zygote is not None and zygote.alive():
            return zygote
        if key in self._zygotes:
            if zygote is None or key in self._replaced:
                if zygote is not None:
                    log.warning("the kernel zygote ended again: kernels start without one")
                    zygote.close()
                    self._zygotes[key] = None
                return None
            log.warning("the kernel zygote ended; starting another")
            zygote.close()
            self._replaced.add(key)
        try:
            self._zygotes[key] = start()
        except Exception as exc:  # noqa: BLE001 - kernels of this kind simply start cold
            log.warning("kernels start without a zygote: %s", exc)
            self._zygotes[key] = None
        return self._zygotes[key]

    def take(self, key: str) -> WarmKernel | None:
        """The waiting kernel if it is of kind ``key``, alive and done importing."""
        warm, self._waiting = self._waiting, None
        if self.first_was_warm is None:
            self.first_was_warm = warm is not None and warm.key == key
        if warm is None:
            return None
        usable = warm.key == key and kernels.call(warm.box.manager, "is_alive")
        if usable and finish_imports(warm):
            self.used += 1
            return warm
        log.info("a warm kernel was not used (another kind, dead, or still importing)")
        self.discarded += 1
        _remove(warm)
        return None

    def fill(self, key: str, start: Callable[[], WarmKernel | None]) -> None:
        """Make sure a kernel of kind ``key`` is waiting, calling ``start`` if none is."""
        if not self.expect_more:
            return
        if self._waiting is not None:
            if self._waiting.key == key:
                return
            self.discarded += 1
            _remove(self._waiting)
            self._waiting = None
        try:
            self._waiting = start()
        except Exception as exc:  # noqa: BLE001 - the next session simply starts cold
            log.warning("could not start a kernel ahead of time: %s", exc)

    @property
    def waiting(self) -> bool:
        """Whether a kernel is waiting for a next session."""
        return self._waiting is not None

    @property
    def zygotes(self) -> list[Zygote]:
        """The zygotes this pool uses (closing it ends those it started)."""
        return [z for z in self._zygotes.values() if z is not None]

    def close(self) -> None:
        """Kill the waiting kernel, if any, then the zygotes this pool started."""
        if self._waiting is not None:
            _remove(self._waiting)
            self._waiting = None
        for zygote in self._zygotes.values():
            if zygote is not None:
                zygote.close()
        self._zygotes.clear()


def _remove(warm: WarmKernel) -> None:
    if warm.client is not None:
        warm.client.stop_channels()
        warm.client = None
    warm.box.close()
