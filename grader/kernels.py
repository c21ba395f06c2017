"""Synchronous calls on a kernel manager, whichever flavour it is.

nbclient needs an ``AsyncKernelManager`` (a blocking one stalls its event loop,
so a dead kernel is never noticed). The grader's own code is synchronous, so it
calls the manager through :func:`call`.
"""

from __future__ import annotations

import inspect
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
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
    client = BlockingKernelClient()
    client.load_connection_info(manager.get_connection_info())
    return client
