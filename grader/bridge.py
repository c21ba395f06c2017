"""The grader's side of the kernel link: send a request, wait, validate the reply.

Each request is one JSON message to the kernel (see :mod:`grader.probes.kernel`) under a
deadline: a message on a Jupyter comm, or where the kernel cannot take one, a fixed
statement it executes. The reply is found among the kernel's outputs by a random id,
then decoded by :mod:`grader.probes.wire`, which rejects anything that is not plain JSON
or a numeric ``.npy`` array.

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
import uuid
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_core.utils import run_sync

from grader import kernels
from grader.kernel_messages import Exchanger, KernelGone, NeverStarted, execution
from grader.probes import wire
from grader.probes.kernel import LINK_TARGET
from grader.probes.wire import Ref

__all__ = [
    "LISTEN",
    "Bridge",
    "BridgeError",
    "KernelDied",
    "Ref",
    "RequestTimeout",
    "StudentError",
]

#: How long an interrupted kernel has to become responsive before it is killed.
INTERRUPT_GRACE_S = 5.0
#: How long the first request waits for the kernel's channels to be ready.
READY_TIMEOUT_S = 30.0
#: How long opening the request link may take (one message, no student code).
LINK_TIMEOUT_S = 10.0
#: How long a request on the link may wait for the kernel to begin handling it.
LINK_START_S = 10.0
#: Run in every kernel before the notebook's first cell (by :func:`grader.execute.
#: run_notebook`): from then on it accepts the bridge's request link. Before the cells, so
#: nothing the notebook changes in how statements are executed can reach it.
LISTEN = '__import__("grader.probes.kernel", fromlist=["listen"]).listen()'
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


class _NoReply(ProtocolError):
    """The kernel went idle without answering (nor raising): nothing served the request."""


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
        self._exchange: Exchanger | None = None
        #: The comm requests travel on, once opened (None: requests are executions).
        self._link: str | None = None
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
        self._open_link()

    def close(self) -> None:
        if self._client is not None:
            self._exchange = None
            self._link = None
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
        if self._link is not None:
            message = self.client.session.msg(
                "comm_msg", {"comm_id": self._link, "data": {"request": payload}}
            )
            try:
                return self._send(message, request_id, timeout, on_link=True)
            except _NoReply:
                # The link is gone (the student's code closed it or broke the kernel's comm
                # manager): the handler never ran, so the request goes again as an
                # execution, as every later one will.
                self._link = None
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
            return self._send(execution(self.client.session, code), request_id, timeout)
        finally:
            if spooled is not None:
                spooled.unlink(missing_ok=True)

    def _send(
        self,
        message: dict[str, Any],
        request_id: str,
        timeout: float | None,
        *,
        on_link: bool = False,
    ) -> Any:
        """Send one request message and decode its reply (see :meth:`request`).

        On the link, a message the kernel never began to handle within
        :data:`LINK_START_S` (it publishes ``busy`` at once when idle, as it is between
        requests) raises :class:`_NoReply`, so the request can go again as an execution.
        """
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
            self._exchanger().exchange(
                message,
                limit,
                on_output,
                start_limit=LINK_START_S if on_link else None,
            )
        except TimeoutError as exc:
            if not self.alive():  # it died mid-request: say so, not that it hung
                self.mark_dead("the kernel stopped while answering a test")
                raise KernelDied(self.dead_reason or "") from None
            if on_link and isinstance(exc, NeverStarted):
                raise _NoReply("the kernel dropped the request") from None
            self._recover_from_hang(limit)
            raise RequestTimeout(f"no answer within {limit:g} s") from None
        except KernelGone:
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
            raise _NoReply("the kernel sent no reply")
        notes = replies[0].get("notes")
        if type(notes) is list:
            self.notes += [str(n)[:200] for n in notes[:10] if type(n) is str]
        return unpack_reply(replies[0])

    def _exchanger(self) -> Exchanger:
        if self._exchange is None:
            self._exchange = Exchanger(self.client, self.alive)
        return self._exchange

    def _open_link(self) -> None:
        """Move requests onto a comm, if the kernel listens for one (:data:`LISTEN`).

        A request then skips IPython's cell machinery: about half the kernel's work per
        request, and nothing the notebook did to how statements run (input transformers,
        cell hooks) applies to it. Where the link cannot be made (a notebook that removed
        the listener or broke the kernel's comm manager, an image with an older dlgrader),
        requests stay executions: slower, the same answers.
        """
        acknowledged: list[bool] = []
        token = secrets.token_hex(8)
        link = uuid.uuid4().hex

        def on_open(msg: dict[str, Any]) -> None:
            data = msg.get("content", {}).get("data", {}).get(wire.REPLY_MIME)
            acknowledged.append(isinstance(data, dict) and data.get("id") == token)

        opening = {"comm_id": link, "target_name": LINK_TARGET, "data": {"id": token}}
        try:
            self._exchanger().exchange(
                self.client.session.msg("comm_open", opening),
                min(self.request_timeout, LINK_TIMEOUT_S),
                on_open,
            )
        except (TimeoutError, KernelGone, ValueError, KeyError, zmq.ZMQError):
            return  # the next request finds out what is wrong, and says so
        if any(acknowledged):
            self._link = link

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
