"""The grader's side of the kernel link: send a request, wait, validate the reply.

Each request runs one fixed statement in the kernel (see
:mod:`grader.probes.kernel`) under a deadline. The reply is found among the
kernel's outputs by a random id, then decoded by :mod:`grader.probes.wire`,
which rejects anything that is not plain JSON or a numeric ``.npy`` array.

Failures are typed so that tests and the pipeline can tell them apart:
:class:`StudentError` (the student's code raised), :class:`RequestTimeout`
(it hung; the kernel was interrupted, or killed if it ignored that) and
:class:`KernelDied` (no kernel to ask any more).
"""

from __future__ import annotations

import json
import queue
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_core.utils import run_sync

from grader import kernels
from grader.probes import wire
from grader.probes.wire import Ref

__all__ = ["Bridge", "BridgeError", "KernelDied", "Ref", "RequestTimeout", "StudentError"]

#: How long an interrupted kernel has to become responsive before it is killed.
INTERRUPT_GRACE_S = 5.0
#: How long the first request waits for the kernel's channels to be ready.
READY_TIMEOUT_S = 30.0
#: While a request waits, how often it checks that the kernel is still alive: a kernel
#: that died mid-request is reported within this, not at the request's deadline.
ALIVE_CHECK_S = 1.0
#: A request larger than this (arrays sent in) goes to the kernel as a file in its work
#: folder, not as a literal in the executed statement: IPython spends about 0.25 s per MB
#: transforming and compiling a literal, reading a file takes milliseconds.
INLINE_LIMIT = 64 * 1024


class BridgeError(RuntimeError):
    """A request did not produce a usable answer."""


class StudentError(BridgeError):
    """The student's code raised while serving a request."""

    def __init__(self, type_name: str, message: str, traceback: str = "") -> None:
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name
        self.message = message
        self.traceback = traceback


class RequestTimeout(BridgeError):
    """The request ran past its deadline."""


class KernelDied(BridgeError):
    """The kernel is gone: it died, or was killed after hanging."""


class ProtocolError(BridgeError):
    """The kernel answered with something that is not a valid reply."""


class _KernelGone(Exception):
    """Found dead while a request waited (turned into :class:`KernelDied` by the bridge)."""


class Bridge:
    """Talks to one live kernel on behalf of the tests."""

    def __init__(
        self, manager: Any, request_timeout: float = 60.0, spool: Path | None = None
    ) -> None:
        self.manager = manager
        self.request_timeout = request_timeout
        #: A folder the kernel reads at the same path (its work folder), for large requests.
        self.spool = spool
        self.dead_reason: str | None = None
        self._client: BlockingKernelClient | None = None
        self._ready = False
        self._poller: zmq.Poller | None = None
        #: What the kernel noticed about objects it returned (see probes.kernel.suspicions).
        self.notes: list[str] = []

    # -- lifecycle ---------------------------------------------------------

    @property
    def client(self) -> BlockingKernelClient:
        if self._client is None:
            client = kernels.blocking_client(self.manager)
            client.start_channels()
            self._client = client
        return self._client

    def _ensure_ready(self) -> None:
        """Wait once for the kernel to answer, so iopub is subscribed before requests."""
        if self._ready:
            return
        try:
            # Readiness is about channels, not student code: do not borrow a short request
            # timeout (an assignment may set 8 s) on a loaded machine.
            wait = run_sync(kernels.wait_answering)
            wait(self.client, max(self.request_timeout, READY_TIMEOUT_S))
        except RuntimeError:
            self.kill()
            self.mark_dead("the kernel stopped answering")
            raise KernelDied(self.dead_reason or "") from None
        self._ready = True

    def close(self) -> None:
        if self._client is not None:
            self._poller = None
            self._client.stop_channels()
            self._client = None

    def mark_dead(self, reason: str) -> None:
        self.dead_reason = reason

    def alive(self) -> bool:
        return bool(kernels.call(self.manager, "is_alive"))

    def kill(self) -> None:
        kernels.call(self.manager, "shutdown_kernel", now=True)

    def interrupt(self) -> None:
        try:
            kernels.call(self.manager, "interrupt_kernel")
        except Exception:  # noqa: BLE001 - a kernel that cannot be interrupted gets killed
            pass

    # -- requests ------------------------------------------------------------

    def request(self, op: str, /, timeout: float | None = None, **fields: Any) -> Any:
        """Send one request and return the decoded value of its reply."""
        if self.dead_reason:
            raise KernelDied(self.dead_reason)
        if not self.alive():
            self.mark_dead("the kernel stopped")
            raise KernelDied(self.dead_reason or "")
        self._ensure_ready()
        request_id = secrets.token_hex(8)
        payload = json.dumps({"id": request_id, "op": op, **fields}, allow_nan=False)
        spooled = None
        if self.spool is not None and len(payload) > INLINE_LIMIT:
            spooled = self.spool / f"request-{request_id}.json"
            spooled.write_text(payload, encoding="utf-8")
            spooled.chmod(0o644)  # a container's kernel runs as another user
            call = f"handle_file({str(spooled)!r})"
        else:
            call = f"handle({payload!r})"
        code = f'__import__("grader.probes.kernel", fromlist=["handle"]).{call}'
        try:
            return self._send(code, request_id, timeout)
        finally:
            if spooled is not None:
                spooled.unlink(missing_ok=True)

    def _send(self, code: str, request_id: str, timeout: float | None) -> Any:
        """Execute one request statement and decode its reply (see :meth:`request`)."""
        replies: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []

        def on_output(msg: dict[str, Any]) -> None:
            kind = msg["header"]["msg_type"]
            content = msg.get("content", {})
            if kind == "display_data":
                data = content.get("data", {}).get(wire.REPLY_MIME)
                if isinstance(data, dict) and data.get("id") == request_id:
                    replies.append(data)
            elif kind == "error":
                errors.append(content)

        limit = timeout or self.request_timeout
        try:
            self._exchange(code, limit, on_output)
        except TimeoutError:
            if not self.alive():  # it died mid-request: say so, not that it hung
                self.mark_dead("the kernel stopped while answering a test")
                raise KernelDied(self.dead_reason or "") from None
            self._recover_from_hang(limit)
            raise RequestTimeout(f"no answer within {limit:g} s") from None
        except _KernelGone:
            self.mark_dead("the kernel stopped while answering a test")
            raise KernelDied(self.dead_reason or "") from None
        except (ValueError, KeyError, zmq.ZMQError) as exc:  # a message that is not Jupyter's
            if not self.alive():
                self.mark_dead("the kernel stopped while answering a test")
                raise KernelDied(self.dead_reason or "") from None
            raise ProtocolError(str(exc)) from None
        if not replies:
            if not self.alive():
                self.mark_dead("the kernel stopped while answering a test")
                raise KernelDied(self.dead_reason or "")
            if errors:
                err = errors[0]
                raise StudentError(
                    str(err.get("ename", "Error"))[:100], str(err.get("evalue", ""))[:4000]
                )
            raise ProtocolError("the kernel sent no reply")
        notes = replies[0].get("notes")
        if type(notes) is list:
            self.notes += [str(n)[:200] for n in notes[:10] if type(n) is str]
        return unpack_reply(replies[0])

    def _exchange(
        self, code: str, limit: float, on_output: Callable[[dict[str, Any]], None]
    ) -> None:
        """Run ``code`` silently; pass its iopub messages to ``on_output`` until it is done.

        What ``execute_interactive`` does, on the client's sockets directly: that method
        runs an event loop per message and wraps the sockets anew on every poll, which cost
        the grader ~1.5 ms per request, more than everything else a request does here.
        *Silent*: the kernel skips the cell events (a student's ``post_run_cell`` hook does
        not run on every request), the execution count and the echo of the statement.
        Done means both the shell reply and the ``idle`` status have arrived (iopub is
        ordered, so every output came before ``idle``). Raises ``TimeoutError`` past
        ``limit`` and :class:`_KernelGone` when the kernel is found dead while waiting.
        """
        client = self.client
        session = client.session
        shell, iopub = client.shell_channel.socket, client.iopub_channel.socket
        request = session.msg(
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
        msg_id = request["header"]["msg_id"]
        session.send(shell, request)
        if self._poller is None:
            self._poller = zmq.Poller()
            self._poller.register(shell, zmq.POLLIN)
            self._poller.register(iopub, zmq.POLLIN)
        deadline = time.monotonic() + limit
        idle = replied = False
        while not (idle and replied):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready = dict(self._poller.poll(int(1000 * min(left, ALIVE_CHECK_S)) + 1))
            if not ready:
                if not self.alive():
                    raise _KernelGone
                continue
            for msg in _received(session, iopub) if iopub in ready else ():
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["header"]["msg_type"] == "status":
                    idle = idle or msg["content"].get("execution_state") == "idle"
                else:
                    on_output(msg)
            for msg in _received(session, shell) if shell in ready else ():
                replied = replied or msg["parent_header"].get("msg_id") == msg_id

    def _recover_from_hang(self, limit: float) -> None:
        """Interrupt a hung request; kill the kernel if it ignores the interrupt."""
        self.interrupt()
        if self.responsive(INTERRUPT_GRACE_S):
            return
        self.kill()
        self.mark_dead(f"the kernel hung on a test request for over {limit:g} s and was stopped")

    def responsive(self, within: float) -> bool:
        """True if the kernel finishes an empty execution within ``within`` seconds.

        An execute request queues behind a running cell, so a reply proves the cell has
        stopped; ipykernel answers kernel_info even while busy, which proves nothing.
        """
        deadline = time.monotonic() + within
        client = self.client
        msg_id = client.execute("", silent=True, store_history=False)
        while time.monotonic() < deadline:
            try:
                msg = client.get_shell_msg(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return True
        return False

    # -- conveniences used by the nb fixture ------------------------------------

    def get(self, name: str) -> Any:
        return self.request("get", target=name)

    def exists(self, name: str) -> bool:
        return bool(self.request("exists", target=name))

    def call(self, target: str | Ref, /, *args: Any, **kwargs: Any) -> Any:
        """Call a notebook function; plain results come back, other objects as a Ref."""
        return self.call_with(target, args, kwargs, "auto")

    def call_with(
        self, target: str | Ref, args: tuple | list, kwargs: dict[str, Any], result: str
    ) -> Any:
        """Call with explicit argument containers, so no keyword of the student's can clash."""
        return self.request(
            "call",
            target=_target(target),
            args=wire.encode(list(args)),
            kwargs=wire.encode(dict(kwargs)),
            result=result,
        )

    def probe(self, name: str, /, timeout: float | None = None, **kwargs: Any) -> Any:
        return self.request(
            "probe", timeout=timeout, probe=name, kwargs=wire.encode(kwargs), result="auto"
        )

    def release(self, *refs: Ref) -> None:
        self.request("release", refs=[r.id for r in refs])


def _received(session: Any, socket: zmq.Socket) -> list[dict[str, Any]]:
    """Every message waiting on ``socket``, deserialized (and its signature checked)."""
    messages = []
    while True:
        try:
            parts = socket.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            return messages
        _, signed = session.feed_identities(parts)
        messages.append(session.deserialize(signed))


def _target(target: str | Ref) -> Any:
    if isinstance(target, Ref):
        return wire.encode(target)
    if not all(part.isidentifier() for part in target.split(".")):
        raise ValueError(f"not a Python name: {target!r}")
    return target


def unpack_reply(reply: dict[str, Any]) -> Any:
    if reply.get("ok") is True and "value" in reply:
        try:
            return wire.decode(reply["value"])
        except wire.WireError as exc:
            raise ProtocolError(f"invalid reply from the kernel: {exc}") from None
    error = reply.get("error")
    if reply.get("ok") is False and isinstance(error, dict):
        return _raise_student_error(error)
    raise ProtocolError("malformed reply from the kernel")


def _raise_student_error(error: dict[str, Any]) -> Any:
    def text(key: str, limit: int) -> str:
        value = error.get(key, "")
        return value[:limit] if isinstance(value, str) else ""

    raise StudentError(text("type", 100) or "Error", text("message", 4000), text("traceback", 4000))
