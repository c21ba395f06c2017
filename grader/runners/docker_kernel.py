"""A Jupyter kernel provisioner whose kernel is a Docker container.

jupyter_client starts kernels through a *provisioner*; the local one runs a subprocess.
This one writes the connection file exactly as the local one does (same ``ipc`` socket
paths, in a folder bind-mounted into the container at the same path), then asks the
Docker engine, through the ``docker`` SDK, to run the kernel command in a container.
Polling, signals and kills go to the container; cleanup removes it.

The provisioner is handed to the kernel manager directly (``manager.provisioner = ...``)
instead of through an entry point: it only ever serves the Docker runner's sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Any

from docker.errors import APIError, NotFound
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from grader.runners.base import RunnerUnavailable


class DockerKernelProvisioner(LocalProvisioner):
    """Runs the kernel command in a container built from ``container_args``."""

    #: docker SDK client and the keyword arguments of ``containers.run`` (set by the runner).
    client: Any = None
    container_args: dict[str, Any] = {}  # noqa: RUF012 - replaced per instance
    #: uid:gid the kernel runs as; the connection file must be readable by it.
    kernel_user: tuple[int, int] | None = None
    container: Any = None
    #: The container's last inspected state, kept after it is removed (for OOM reports).
    final_state: dict[str, Any] | None = None
    pids_events_path: Path | None = None
    pids_max_hits: int = 0

    @property
    def has_process(self) -> bool:
        return self.container is not None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        kwargs = await super().pre_launch(**kwargs)
        connection_file = Path(self.parent.connection_file)
        if self.kernel_user is not None and connection_file.exists():
            uid, gid = self.kernel_user
            if os.geteuid() == 0:
                os.chown(connection_file, uid, gid)
        return kwargs

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Create and start the container; the host environment is never passed in."""
        args = dict(self.container_args)
        try:
            self.container = await asyncio.to_thread(
                self.client.containers.run, command=cmd, detach=True, **args
            )
        except APIError as exc:
            # A container that failed to start stays "Created": remove it, then say why.
            with contextlib.suppress(NotFound, APIError):
                self.client.containers.get(args["name"]).remove(force=True)
            if "device driver" in str(exc) and args.get("device_requests"):
                raise RunnerUnavailable(
                    "Docker cannot give the container a GPU: install the NVIDIA container "
                    "toolkit on this host (docs/docker.md), or grade without GPUs "
                    "(docker: {gpus: none} in dlgrader.yaml)"
                ) from None
            raise
        self.pids_events_path = _pids_events(self.container.id)
        return self.connection_info

    async def poll(self) -> int | None:
        state = self._inspect()
        if state is None:
            return 0
        if state.get("Status") in ("created", "running", "restarting", "paused"):
            return None
        return int(state.get("ExitCode") or 0)

    async def wait(self) -> int | None:
        while (code := await self.poll()) is None:
            await asyncio.sleep(0.1)
        return code

    async def send_signal(self, signum: int) -> None:
        if self.container is not None:
            with contextlib.suppress(APIError, NotFound):
                self.container.kill(signal=int(signum))

    async def kill(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        self.remove()

    def remove(self) -> None:
        """Kill and remove the container, keeping its final state; safe to call twice."""
        if self.container is None:
            return
        self._inspect()
        self._read_pids_events()
        with contextlib.suppress(NotFound, APIError):
            self.container.remove(force=True)
        self.container = None

    def breaches(self) -> list[str]:
        """The limits the container ran into, as the local runner's cgroups name them."""
        self._inspect()
        self._read_pids_events()
        found = []
        if (self.final_state or {}).get("OOMKilled"):
            found.append("memory limit")
        if self.pids_max_hits:
            found.append("process limit")
        return found

    def _inspect(self) -> dict[str, Any] | None:
        if self.container is None:
            return self.final_state
        try:
            self.container.reload()
        except NotFound:
            return self.final_state
        self.final_state = dict(self.container.attrs.get("State", {}))
        return self.final_state

    def _read_pids_events(self) -> None:
        if self.pids_events_path is None:
            return
        with contextlib.suppress(OSError, ValueError):
            for line in self.pids_events_path.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "max":
                    self.pids_max_hits = max(self.pids_max_hits, int(value))


def _pids_events(container_id: str) -> Path | None:
    """Where the host shows the container's pids cgroup events (v1 or v2 layouts)."""
    candidates = [
        Path("/sys/fs/cgroup/pids/docker") / container_id / "pids.events",
        Path("/sys/fs/cgroup/system.slice") / f"docker-{container_id}.scope" / "pids.events",
        Path("/sys/fs/cgroup/docker") / container_id / "pids.events",
    ]
    return next((p for p in candidates if p.exists()), None)
