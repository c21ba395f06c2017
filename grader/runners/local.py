"""The local runner: a Jupyter kernel in a sandbox on this machine.

The kernel runs under bubblewrap when it is installed: new user, network, IPC,
UTS and PID namespaces, a read-only view of only the paths Python needs, a
private writable work folder, and ``prlimit`` for memory and CPU time. Without
bubblewrap it falls back to ``unshare`` (network and user namespaces, rlimits,
but the real filesystem stays visible), and without that to a plain subprocess,
printing a warning each time, because then nothing confines student code.

Kernels in a new network namespace cannot use TCP loopback to reach the grader,
so the connection uses ZeroMQ's ``ipc`` transport: socket files in the work
folder, which both sides can see.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from grader import kernels
from grader.config import Limits
from grader.logfile import kernel_output
from grader.runners.base import Enforcement, KernelSession
from grader.runners.cgroups import KernelCgroup
from grader.runners.sandbox import (
    bubblewrap_argv,
    gpu_present,
    rlimits,
    unshare_argv,
)
from grader.runners.warm import KernelPool, WarmKernel, start_imports
from grader.runners.workdirs import new_workdir, reap_orphans
from grader.runners.zygote import Recipe, Zygote, zygote_allowed

log = logging.getLogger(__name__)

KERNEL_NAME = "dlgrader-kernel"
#: Environment variables the kernel gets; everything else of the grader's is dropped.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "GRADER_DATA", "CUDA_VISIBLE_DEVICES")


def detect_sandbox() -> str:
    """The strongest confinement this machine offers: bubblewrap, unshare or none."""
    forced = os.environ.get("GRADER_SANDBOX")
    if forced in ("bubblewrap", "unshare", "none"):
        return forced
    if shutil.which("bwrap") and shutil.which("prlimit"):
        return "bubblewrap"
    if shutil.which("unshare") and shutil.which("prlimit"):
        return "unshare"
    return "none"


@functools.cache
def cgroups_writable() -> bool:
    """Whether this process can make pids and memory cgroups (tried once, then remembered)."""
    probe = KernelCgroup.create(256 * 1024 * 1024, 64)
    if probe is None:
        return False
    probe.remove()
    return True


def kernel_environment(workdir: Path) -> dict[str, str]:
    """A clean environment: no grader secrets, caches inside the kernel's home."""
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    home = workdir / "home"
    env.update(
        HOME=str(home),
        TMPDIR=str(home / "tmp"),
        MPLCONFIGDIR=str(home / ".matplotlib"),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONNOUSERSITE="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        DLGRADER_KERNEL="1",
        # glibc reserves a 64 MiB malloc arena per thread (up to 8 per core), address space
        # that RLIMIT_AS counts though little of it is used: a numpy-and-scipy kernel with
        # two BLAS threads passed 1 GiB that way and crashed mid-request, where the same
        # notebook on one thread got full marks. Two arenas keep the limit about memory.
        MALLOC_ARENA_MAX="2",
    )
    return env


@dataclass
class SandboxBox:
    """One kernel's work folder, cgroup and manager: everything ``close`` removes."""

    workdir: Path
    cgroup: KernelCgroup | None
    manager: AsyncKernelManager

    def close(self) -> None:
        try:
            if self.manager.has_kernel:
                kernels.call(self.manager, "shutdown_kernel", now=True)
        except Exception as exc:  # noqa: BLE001 - the cgroup below kills what is left
            log.info("kernel shutdown: %s", exc)
        finally:
            if self.cgroup is not None:
                self.cgroup.remove()  # kills whatever the kernel left running, daemons included
                self.cgroup = None
            shutil.rmtree(self.workdir, ignore_errors=True)


class LocalRunner:
    """Runs each kernel in a fresh work folder on this machine.

    With a ``pool`` (a batch worker's), each session starts the next session's kernel
    when asked (:attr:`KernelSession.prepare_next`), importing ``warm_imports`` in it.
    """

    name = "local"

    def __init__(
        self,
        sandbox: str | None = None,
        pool: KernelPool | None = None,
        warm_imports: tuple[str, ...] = (),
    ) -> None:
        self.sandbox = sandbox or detect_sandbox()
        self.pool = pool
        self.warm_imports = warm_imports

    def enforcement(self, limits: Limits) -> Enforcement:
        confined = self.sandbox != "none"
        gpu = gpu_present()
        warnings = []
        cgroups = confined and cgroups_writable()
        if confined and gpu and not cgroups:
            warnings.append(
                "GPU machine without writable cgroups: the kernel's memory is not limited "
                "(an address-space limit stops CUDA); use the Docker runner for a memory limit"
            )
        if confined and not cgroups:
            warnings.append(
                "no writable cgroup: the number of processes is not limited (as root, "
                "RLIMIT_NPROC is ignored), and a kernel's leftover processes are reaped only "
                "through its PID namespace"
            )
        if self.sandbox == "none":
            warnings.append(
                "no sandbox (install bubblewrap): student code ran with the grader's "
                "permissions, network and files"
            )
        elif self.sandbox == "unshare":
            warnings.append(
                "unshare sandbox: network blocked, but the filesystem is visible "
                "(install bubblewrap to hide it)"
            )
        return Enforcement(
            runner=self.name,
            sandbox=self.sandbox,
            network_blocked=confined and not limits.network,
            filesystem_private=self.sandbox == "bubblewrap",
            memory_limit_mb=limits.memory_mb if confined and (cgroups or not gpu) else None,
            cpu_limit_s=limits.effective_cpu_seconds() if confined else None,
            pid_namespace=self.sandbox == "bubblewrap",
            gpu_available=gpu,
            process_limit=limits.processes if cgroups else None,
            disk_limit_mb=limits.disk_mb if self.sandbox == "bubblewrap" else None,
            warnings=warnings,
        )

    @contextmanager
    def session(
        self,
        limits: Limits,
        env: dict[str, str] | None = None,
        data: Path | None = None,
        submission: Path | None = None,
    ) -> Iterator[KernelSession]:
        enforcement = self.enforcement(limits)
        for warning in enforcement.warnings:
            log.warning(warning)
        env = env or {}
        reap_orphans()
        kind = self._kind(limits, env, data)
        warm = self.pool.take(kind) if self.pool is not None else None
        if warm is not None:
            box = warm.box
        else:
            box = self._box(limits, env, data, enforcement, self._zygote(env))
        try:
            yield KernelSession(
                manager=box.manager,
                workdir=box.workdir,
                enforcement=enforcement,
                breaches=box.cgroup.breaches if box.cgroup else lambda: [],
                prepare_next=lambda: self._fill(kind, limits, env, data, enforcement),
            )
        finally:
            box.close()

    def warm_up(
        self, limits: Limits, env: dict[str, str] | None = None, data: Path | None = None
    ) -> None:
        """With a pool, make sure a kernel for a session with these arguments is waiting."""
        if self.pool is None:
            return
        env = env or {}
        self._fill(self._kind(limits, env, data), limits, env, data, self.enforcement(limits))

    def _fill(
        self,
        kind: str,
        limits: Limits,
        env: dict[str, str],
        data: Path | None,
        enforcement: Enforcement,
    ) -> None:
        if self.pool is not None:
            self.pool.fill(kind, lambda: self._warm(kind, limits, env, data, enforcement))

    def _kind(self, limits: Limits, env: dict[str, str], data: Path | None) -> str:
        """What a waiting kernel must match to serve a session: everything it was made with."""
        made_with = [
            limits.model_dump(),
            sorted(env.items()),
            data,
            self.sandbox,
            self.warm_imports,
        ]
        return json.dumps(made_with, default=str)

    def _warm(
        self,
        kind: str,
        limits: Limits,
        env: dict[str, str],
        data: Path | None,
        enforcement: Enforcement,
    ) -> WarmKernel:
        """A new box whose kernel is started and importing, for the pool."""
        box = self._box(limits, env, data, enforcement, self._zygote(env))
        try:
            # Kernel stderr (framework banners) goes to the run's log file when there is one.
            output = kernel_output()
            try:
                kernels.call(box.manager, "start_kernel", **output)
            finally:
                for handle in set(output.values()):
                    handle.close()  # the kernel process has its own copy
            client, imports_id = start_imports(box.manager, self.warm_imports)
        except BaseException:
            box.close()
            raise
        return WarmKernel(kind, box, client, imports_id)

    def zygote_recipe(self, env: dict[str, str]) -> Recipe | None:
        """What a zygote for kernels started with ``env`` is made of; None where kernels
        may not be forked from one (:func:`~grader.runners.zygote.zygote_allowed`)."""
        if not zygote_allowed(self.sandbox, gpu_present(), self.warm_imports):
            return None
        clean = {**kernel_environment(Path("/nonexistent")), **env}  # its home is its own
        return Recipe(clean, self.warm_imports)

    def _zygote(self, env: dict[str, str]) -> Zygote | None:
        """A batch worker's zygote for kernels started with ``env``, where one may be used."""
        recipe = self.zygote_recipe(env) if self.pool is not None else None
        if recipe is None:
            return None
        return self.pool.zygote(recipe.key, recipe.start)

    def _box(
        self,
        limits: Limits,
        env: dict[str, str],
        data: Path | None,
        enforcement: Enforcement,
        zygote: Zygote | None = None,
    ) -> SandboxBox:
        workdir = new_workdir()
        cgroup = None
        try:
            if enforcement.process_limit is not None:
                # Tmpfs pages count as memory, so the cgroup leaves room for the disk allowance.
                memory = (limits.memory_mb + 2 * limits.disk_mb) * 1024 * 1024
                cgroup = KernelCgroup.create(memory, limits.processes)
            (workdir / "home" / "tmp").mkdir(parents=True)
            if data is not None and self.sandbox != "bubblewrap":
                # Without bubblewrap the data cannot be bound read-only: it gets a copy.
                shutil.copytree(data, workdir / "home" / "data", symlinks=False)
            manager = self._manager(workdir, limits, env, data, cgroup, zygote)
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        return SandboxBox(workdir, cgroup, manager)

    def _manager(
        self,
        workdir: Path,
        limits: Limits,
        extra_env: dict[str, str],
        data: Path | None,
        cgroup: KernelCgroup | None,
        zygote: Zygote | None = None,
    ) -> AsyncKernelManager:
        env = {**kernel_environment(workdir), **extra_env}
        if self.sandbox == "bubblewrap":
            # ipykernel exits when its parent pid changes, which in a PID namespace it
            # seems to at once; parent handle 1 turns that watch off.
            env["JPY_PARENT_PID"] = "1"
        wrapper: list[str] = cgroup.enter_argv() if cgroup else []
        if zygote is not None:
            # The same sandbox, with the kernel forked into it instead of started in it.
            argv = zygote.launcher_argv(
                env=env,
                cwd=workdir / "home",
                rlimits=rlimits(limits),
                cgroup_procs=cgroup.procs_files() if cgroup else [],
                bwrap_argv=bubblewrap_argv(workdir, limits, data),
            )
            return kernels.ipc_kernel_manager(workdir, KERNEL_NAME, [*wrapper, *argv])
        if self.sandbox == "bubblewrap":
            wrapper += bubblewrap_argv(workdir, limits, data)
        elif self.sandbox == "unshare":
            wrapper += unshare_argv(limits)
        # jupyter_client merges the grader's whole environment into the kernel's; `env -i`
        # starts from nothing, so no token or secret of the grader reaches student code.
        clean = ["env", "-i", *(f"{key}={value}" for key, value in env.items())]
        argv = [
            *wrapper,
            *clean,
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ]
        return kernels.ipc_kernel_manager(workdir, KERNEL_NAME, argv)
