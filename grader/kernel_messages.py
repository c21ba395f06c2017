"""One Jupyter message to a kernel and everything it causes, on a client's own sockets.

The bridge sends hundreds of requests per submission. jupyter_client's
``execute_interactive`` runs an event loop for every message and wraps both sockets
anew on every poll; here the shell and iopub sockets of a blocking client are polled
directly. Signatures are still checked by the client's ``Session``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import zmq

#: While a message waits, how often the kernel is checked for being alive: a kernel that
#: died mid-request is reported within this, not at the request's deadline.
ALIVE_CHECK_S = 1.0


class KernelGone(Exception):
    """The kernel was found dead while a message waited for its outcome."""


class NeverStarted(TimeoutError):
    """The kernel did not begin to handle the message (no ``busy`` status for it) in time."""


def execution(session: Any, code: str) -> dict[str, Any]:
    """A *silent* ``execute_request``: the kernel does not echo or count it, and skips the
    notebook's cell events (a student's ``post_run_cell`` hook does not run for it)."""
    return session.msg(
        "execute_request",
        {
            "code": code,
            "silent": True,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": False,
        },
    )


class Exchanger:
    """Sends messages on one client and waits for what each one causes."""

    def __init__(self, client: Any, alive: Callable[[], bool]) -> None:
        self.session = client.session
        self.shell = client.shell_channel.socket
        self.iopub = client.iopub_channel.socket
        self.alive = alive
        self.poller = zmq.Poller()
        self.poller.register(self.shell, zmq.POLLIN)
        self.poller.register(self.iopub, zmq.POLLIN)

    def exchange(
        self,
        message: dict[str, Any],
        limit: float,
        on_output: Callable[[dict[str, Any]], None],
        *,
        start_limit: float | None = None,
    ) -> None:
        """Send ``message``; hand each iopub message it causes to ``on_output``.

        Done when the kernel publishes ``idle`` for it (iopub is ordered, so every output
        came before) and, for a ``*_request`` (a comm message has no reply), the shell
        reply has arrived. Replies to earlier messages (a request that
        timed out) are dropped. Raises ``TimeoutError`` after ``limit`` seconds,
        :class:`NeverStarted` (one) when the kernel has not begun to handle the message
        (published ``busy`` for it) after ``start_limit`` seconds or ``limit``, and
        :class:`KernelGone` when the kernel is found dead while waiting.
        """
        msg_id = message["header"]["msg_id"]
        self.session.send(self.shell, message)
        sent = time.monotonic()
        deadline = sent + limit
        # Jupyter answers every *_request on shell; comm messages get no reply.
        replied = not message["header"]["msg_type"].endswith("_request")
        idle, started = False, False
        while not (idle and replied):
            left = deadline - time.monotonic()
            if not started and start_limit is not None:
                left = min(left, sent + start_limit - time.monotonic())
            if left <= 0:
                raise TimeoutError if started else NeverStarted
            ready = dict(self.poller.poll(int(1000 * min(left, ALIVE_CHECK_S)) + 1))
            if not ready:
                if not self.alive():
                    raise KernelGone
                continue
            for msg in self._received(self.iopub) if self.iopub in ready else ():
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["header"]["msg_type"] == "status":
                    started = True
                    idle = idle or msg["content"].get("execution_state") == "idle"
                else:
                    on_output(msg)
            for msg in self._received(self.shell) if self.shell in ready else ():
                replied = replied or msg["parent_header"].get("msg_id") == msg_id

    def _received(self, socket: zmq.Socket) -> list[dict[str, Any]]:
        """Every message waiting on ``socket``, deserialized (its signature checked)."""
        messages = []
        while True:
            try:
                parts = socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return messages
            _, signed = self.session.feed_identities(parts)
            messages.append(self.session.deserialize(signed))
