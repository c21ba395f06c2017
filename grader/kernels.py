"""Synchronous calls on a kernel manager, whichever flavour it is.

nbclient needs an ``AsyncKernelManager`` (a blocking one stalls its event loop,
so a dead kernel is never noticed). The grader's own code is synchronous, so it
calls the manager through :func:`call`.
"""

from __future__ import annotations

import inspect
import json
import queue
import time
from pathlib import Path
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async, run_sync

#: How long one readiness try waits for the kernel_info reply's status on iopub.
IOPUB_TRY_S = 0.5


def call(manager: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """``manager.method(*args, **kwargs)``, awaited if the manager is asynchronous."""
    result = getattr(manager, method)(*args, **kwargs)
    if inspect.isawaitable(result):

        async def wait() -> Any:
            return await result

        return run_sync(wait)()
    return result


def blocking_client(manager: Any) -> BlockingKernelClient:
    """A blocking client on the manager's kernel, from connection info held in memory.

    The connection file lives in the kernel's writable folder, so student code could
    rewrite it; the copy in the manager's memory cannot be touched.
    """
    # With the manager as parent, readiness is asked of the manager instead of polled
    # through heartbeats in 0.2 s sleeps: the first request is ready ~0.2 s sooner.
    client = BlockingKernelClient(parent=manager)
    client.load_connection_info(manager.get_connection_info())
    return client


def ipc_kernel_manager(workdir: Path, name: str, argv: list[str]) -> AsyncKernelManager:
    """A kernel manager for ``argv``, connected over ``ipc`` sockets in ``workdir``.

    The kernelspec is written into ``workdir`` (never the user's Jupyter folders).
    Interrupts go as control messages: signals from the grader cannot cross a sandbox's
    new session or a container boundary, but ipykernel can interrupt itself.
    """
    spec_dir = workdir / ".kernelspec" / name
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": argv,
        "display_name": name,
        "language": "python",
        "interrupt_mode": "message",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return AsyncKernelManager(
        kernel_name=name,
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir.parent)]),
        transport="ipc",
        ip=str(workdir / "k"),
        connection_file=str(workdir / "kernel.json"),
    )


async def wait_answering(client: Any, timeout: float) -> None:
    """Return once the kernel answers ``client`` on shell and its iopub reaches ``client``.

    What jupyter_client's ``wait_for_ready`` establishes, without its last step: it
    drains iopub until 0.2 s pass in silence, which every new client pays (twice per
    grading: nbclient's client and the bridge's). Draining is not needed here, because
    both read only messages whose parent is their own request. Readiness is proven by
    the ``status`` message that the kernel publishes for this client's ``kernel_info``
    request: seen on iopub, the subscription is live. If it is not seen (the
    subscription was not yet connected), the request is sent again.
    Raises ``RuntimeError`` when the kernel dies or ``timeout`` passes. Works for
    blocking and asynchronous clients (``run_sync`` it for a blocking one).
    """
    deadline = time.monotonic() + timeout
    while True:
        msg_id = client.kernel_info()
        if await reply_arrives(
            client, msg_id, min(deadline, time.monotonic() + 1.0)
        ) and await _status_seen(client, msg_id, min(deadline, time.monotonic() + IOPUB_TRY_S)):
            return
        if not await client._async_is_alive():  # the same for blocking and async clients
            raise RuntimeError("the kernel died before answering")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the kernel did not answer within {timeout:g} s")


async def reply_arrives(client: Any, msg_id: str, end: float) -> bool:
    """Whether the shell reply to ``msg_id`` arrives before ``end`` (a monotonic time).

    Other replies on the way are dropped. Blocking or asynchronous client, as above.
    """
    while (left := end - time.monotonic()) > 0:
        try:
            msg = await ensure_async(client.shell_channel.get_msg(timeout=left))
        except queue.Empty:
            return False
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return True
    return False


async def _status_seen(client: Any, msg_id: str, end: float) -> bool:
    while (left := end - time.monotonic()) > 0:
        try:
            msg = await ensure_async(client.iopub_channel.get_msg(timeout=min(left, 0.05)))
        except queue.Empty:
            continue
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return True
    return False
