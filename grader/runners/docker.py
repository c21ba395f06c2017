"""The Docker runner: one container per submission, the kernel inside, judging outside.

The container has no network (``network_mode="none"``), so the kernel talks to the
grader over ZeroMQ ``ipc`` sockets in a work folder bind-mounted at the same path on
both sides. Everything else about the container is a limit: memory equal to
memory+swap, a CPU quota, a pids limit, a read-only root with sized tmpfs for the home
folder and /tmp, no new privileges, every capability dropped, a non-root user, a
larger /dev/shm for PyTorch data loaders, and at most one GPU through a DeviceRequest.
The assignment's data is mounted read-only at ``data/`` in the home folder, where the
local runner puts it too.

Containers carry labels naming the grader process that made them (and the batch, when
there is one), so :func:`remove_containers` can clear what an interrupted grader left;
every session also removes containers whose owning process is gone.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.errors import DockerException, ImageNotFound
from docker.types import DeviceRequest, Mount, Ulimit
from jupyter_client.manager import AsyncKernelManager

import docker
from grader import kernels
from grader.config import DockerSettings, Limits
from grader.runners.base import Enforcement, KernelSession, RunnerUnavailable
from grader.runners.docker_image import DIGEST_LABEL, image_tag, kernel_digest
from grader.runners.docker_kernel import DockerKernelProvisioner
from grader.runners.gpu_slots import gpu_slot, host_gpus
from grader.runners.workdirs import new_workdir, owner_gone, owner_id, reap_orphans

log = logging.getLogger(__name__)

KERNEL_NAME = "dlgrader-docker-kernel"
HOME = "/home/student"
#: Where the graded notebook is mounted, read-only.
SUBMISSION_DIR = "/submission"
#: The image's non-root user (docker/Dockerfile.*).
IMAGE_UID = 1000
#: The image's Python (an absolute path: jupyter_client swaps a bare "python" for its own).
KERNEL_PYTHON = "/opt/venv/bin/python"
LABEL = "org.dlgrader"
OWNER_LABEL = "org.dlgrader.owner"
BATCH_LABEL = "org.dlgrader.batch"
ENGINE_HINT = "start one (as root: bash scripts/docker-engine.sh) or grade with --runner local"


def connect() -> Any:
    """A docker SDK client on a live engine, or :class:`RunnerUnavailable` in one line."""
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except DockerException as exc:
        reason = str(exc).split("(")[0].strip().rstrip(":") or type(exc).__name__
        raise RunnerUnavailable(f"no Docker engine answers ({reason}); {ENGINE_HINT}") from None
    return client


def remove_containers(client: Any, *, batch: str | None = None) -> int:
    """Remove grader containers: a batch's, or those whose owning process is gone."""
    if batch is not None:
        found = client.containers.list(all=True, filters={"label": f"{BATCH_LABEL}={batch}"})
    else:
        found = [
            c for c in client.containers.list(all=True, filters={"label": LABEL}) if _orphan(c)
        ]
    for container in found:
        try:
            container.remove(force=True)
        except Exception as exc:  # noqa: BLE001 - already gone, or being removed
            log.debug("could not remove %s: %s", container.short_id, exc)
    return len(found)


def _orphan(container: Any) -> bool:
    return owner_gone((container.labels or {}).get(OWNER_LABEL, ""))


@dataclass(frozen=True)
class Launch:
    """What one session's container is made from."""

    workdir: Path
    limits: Limits
    env: dict[str, str]
    data: Path | None
    gpu: str | None
    user: tuple[int, int]
    submission: Path | None = None


class DockerRunner:
    """Runs each kernel in a fresh container of the kernel image."""

    name = "docker"

    def __init__(self, settings: DockerSettings | None = None, batch: str | None = None) -> None:
        self.settings = settings or DockerSettings()
        self.batch = batch
        self.gpus = host_gpus() if self.settings.gpus == "auto" else []
        self.image = self.settings.image or image_tag("gpu" if self.gpus else "cpu")
        self._client: Any = None
        self._checked = False

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect()
        return self._client

    def check(self) -> None:
        """Fail now, in one line, if there is no engine or no usable image (asked once)."""
        if self._checked:
            return
        try:
            image = self.client.images.get(self.image)
        except ImageNotFound:
            raise RunnerUnavailable(
                f"the Docker image {self.image} is not on this engine; build it with "
                f"`bash docker/build.sh {'gpu' if self.gpus else 'cpu'}`"
            ) from None
        built_from = (image.labels or {}).get(DIGEST_LABEL)
        if self.settings.image is None and built_from != kernel_digest():
            raise RunnerUnavailable(
                f"the Docker image {self.image} holds other kernel-side grader code "
                f"({built_from or 'unlabelled'}, this grader is {kernel_digest()}); rebuild it "
                f"with `bash docker/build.sh {'gpu' if self.gpus else 'cpu'}`"
            )
        self._checked = True

    def enforcement(self, limits: Limits) -> Enforcement:
        return Enforcement(
            runner=self.name,
            sandbox="docker",
            network_blocked=not limits.network,
            filesystem_private=True,
            memory_limit_mb=limits.memory_mb,
            cpu_limit_s=limits.effective_cpu_seconds(),
            pid_namespace=True,
            gpu_available=bool(self.gpus),
            process_limit=limits.processes,
            disk_limit_mb=limits.disk_mb,
            cpu_quota=self.settings.cpus,
        )

    def warm_up(
        self, limits: Limits, env: dict[str, str] | None = None, data: Path | None = None
    ) -> None:
        """Containers start on demand: nothing is started ahead of a session."""

    @contextmanager
    def session(
        self,
        limits: Limits,
        env: dict[str, str] | None = None,
        data: Path | None = None,
        submission: Path | None = None,
    ) -> Iterator[KernelSession]:
        self.check()
        remove_containers(self.client)  # what crashed graders left behind
        reap_orphans()
        workdir = new_workdir()
        provisioner: DockerKernelProvisioner | None = None
        try:
            user = _kernel_user()
            os.chmod(workdir, 0o755)
            if os.geteuid() == 0:
                os.chown(workdir, *user)
            with gpu_slot(self.gpus) as gpu:
                launch = Launch(workdir, limits, env or {}, data, gpu, user, submission)
                manager, provisioner = self._manager(launch)
                yield KernelSession(
                    manager=manager,
                    workdir=workdir,
                    enforcement=self.enforcement(limits),
                    breaches=provisioner.breaches,
                )
                if manager.has_kernel:
                    kernels.call(manager, "shutdown_kernel", now=True)
        finally:
            if provisioner is not None:
                provisioner.remove()  # killed and removed, whatever happened above
            shutil.rmtree(workdir, ignore_errors=True)

    def _manager(self, launch: Launch) -> tuple[AsyncKernelManager, DockerKernelProvisioner]:
        argv = [KERNEL_PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        manager = kernels.ipc_kernel_manager(launch.workdir, KERNEL_NAME, argv)
        manager.kernel_id = str(uuid.uuid4())
        provisioner = DockerKernelProvisioner(
            kernel_id=manager.kernel_id, kernel_spec=manager.kernel_spec, parent=manager
        )
        provisioner.client = self.client
        provisioner.kernel_user = launch.user
        provisioner.container_args = self.container_args(launch)
        manager.provisioner = provisioner
        return manager, provisioner

    def container_args(self, launch: Launch) -> dict[str, Any]:
        """The keyword arguments of ``containers.run``: every limit is set here."""
        workdir, limits, extra_env, data, gpu = (
            launch.workdir,
            launch.limits,
            launch.env,
            launch.data,
            launch.gpu,
        )
        disk = limits.disk_mb * 1024 * 1024
        uid, gid = launch.user
        # Tmpfs pages count as the container's memory, so room is left for the disk allowance.
        memory = (limits.memory_mb + 2 * limits.disk_mb) * 1024 * 1024
        mounts = [Mount(str(workdir), str(workdir), type="bind", read_only=False)]
        if data is not None:
            mounts.append(Mount(f"{HOME}/data", str(data), type="bind", read_only=True))
        if launch.submission is not None and launch.submission.is_file():
            target = f"{SUBMISSION_DIR}/{launch.submission.name}"
            mounts.append(
                Mount(target, str(launch.submission.resolve()), type="bind", read_only=True)
            )
        if extra_env.get("GRADER_DATA"):
            cache = extra_env["GRADER_DATA"]
            mounts.append(Mount(cache, cache, type="bind", read_only=True))
        env = {
            "HOME": HOME,
            "TMPDIR": "/tmp",
            "JPY_PARENT_PID": "1",  # PID 1 is docker-init: ipykernel must not watch it
            "DLGRADER_KERNEL": "1",
            "MPLCONFIGDIR": f"{HOME}/.matplotlib",
            **extra_env,
        }
        args: dict[str, Any] = {
            "image": self.image,
            "name": f"dlgrader-{uuid.uuid4().hex[:12]}",
            "labels": {LABEL: "1", OWNER_LABEL: owner_id(), BATCH_LABEL: self.batch or ""},
            "user": f"{uid}:{gid}",
            "working_dir": HOME,
            "environment": env,
            "network_mode": "bridge" if limits.network else "none",
            "mem_limit": memory,
            "memswap_limit": memory,
            "nano_cpus": int(self.settings.cpus * 1e9),
            "pids_limit": limits.processes,
            "read_only": True,
            "tmpfs": {
                "/tmp": f"rw,nosuid,nodev,size={disk},mode=1777",
                HOME: f"rw,nosuid,nodev,size={disk},uid={uid},gid={gid},mode=0700",
            },
            "shm_size": self.settings.shm_mb * 1024 * 1024,
            "security_opt": ["no-new-privileges"],
            "cap_drop": ["ALL"],
            "ulimits": [
                Ulimit(
                    name="cpu",
                    soft=limits.effective_cpu_seconds(),
                    hard=limits.effective_cpu_seconds(),
                ),
                Ulimit(name="core", soft=0, hard=0),
                Ulimit(name="fsize", soft=disk, hard=disk),
            ],
            "mounts": mounts,
            "init": True,
            "stdout": False,
            "stderr": False,
        }
        if gpu is not None:
            args["device_requests"] = [DeviceRequest(device_ids=[gpu], capabilities=[["gpu"]])]
        return args


def _kernel_user() -> tuple[int, int]:
    """The image's user when the grader is root; otherwise the grader's own ids."""
    if os.geteuid() == 0:
        return IMAGE_UID, IMAGE_UID
    return os.getuid(), os.getgid()
