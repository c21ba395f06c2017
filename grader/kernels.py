"""Synchronous calls on a kernel manager, whichever flavour it is.

nbclient needs an ``AsyncKernelManager`` (a blocking one stalls its event loop,
so a dead kernel is never noticed). The grader's own code is synchronous, so it
calls the manager through :func:`call`.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync


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
