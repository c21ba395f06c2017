"""The ``nb`` fixture's local backing: serve requests in this very process.

When a student calls ``check()`` in their notebook, the public tests run inside the
student's own kernel. :class:`LocalBridge` answers their requests by calling the same
kernel-side code the grader's bridge reaches over Jupyter's channels
(:func:`grader.probes.kernel.serve`), and passes every request and reply through the
same JSON and :mod:`grader.probes.wire` encoding. So a test sees exactly what it would
see when graded: copies of arrays, kernel objects as references, the student's
exceptions as :class:`~grader.bridge.StudentError`, the same missing-name messages.

Nothing here is a trust boundary: it is the student's machine and only public tests,
which the student already has. Grading never uses this module.
"""

from __future__ import annotations

import json
import secrets
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from grader.bridge import Bridge, RequestTimeout, unpack_reply
from grader.probes import kernel


class _Deadline(KeyboardInterrupt):
    """Raised by the alarm inside student code; a KeyboardInterrupt so ``serve`` lets it out."""


class LocalBridge(Bridge):
    """A :class:`Bridge` whose requests are served in this process, in this namespace."""

    def __init__(self, request_timeout: float | None = None) -> None:
        super().__init__(manager=None, request_timeout=request_timeout or 0.0)
        #: References held before this bridge existed; :meth:`close` drops only newer ones.
        self._refs_before = set(kernel._REFS)

    # -- lifecycle: there is no separate kernel to start, watch or kill ----------------

    def alive(self) -> bool:
        return True

    def kill(self) -> None:
        """Nothing to kill: the kernel is the student's own, and this code runs in it."""

    def interrupt(self) -> None:
        """Nothing to interrupt from outside; a deadline interrupts from within."""

    def close(self) -> None:
        """Forget the objects the tests asked the kernel to hold, so memory is freed."""
        for ref_id in set(kernel._REFS) - self._refs_before:
            kernel._REFS.pop(ref_id, None)

    # -- requests ---------------------------------------------------------------------

    def request(self, op: str, /, timeout: float | None = None, **fields: Any) -> Any:
        """Serve one request here, with the same JSON and wire round trip as the grader's."""
        request_id = secrets.token_hex(8)
        payload = json.dumps({"id": request_id, "op": op, **fields}, allow_nan=False)
        limit = timeout or self.request_timeout
        try:
            with _deadline(limit):
                reply = kernel.serve(payload)
        except _Deadline:
            raise RequestTimeout(f"no answer within {limit:g} s") from None
        # What crosses the wire when grading: plain JSON text, decoded and validated.
        reply = json.loads(json.dumps(reply, allow_nan=False))
        notes = reply.get("notes")
        if type(notes) is list:
            self.notes += [str(n)[:200] for n in notes[:10] if type(n) is str]
        return unpack_reply(reply)


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt the request after ``seconds`` where a timer signal can (Unix, main thread).

    Elsewhere (Windows, a worker thread) there is no deadline: the student can still stop a
    hung check with the notebook's interrupt button.
    """
    usable = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise _Deadline()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
