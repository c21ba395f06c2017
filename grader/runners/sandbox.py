"""How the local runner confines a kernel: bubblewrap's or unshare's argv, and rlimits.

Split from :mod:`grader.runners.local` (which decides which of these a kernel gets and
runs it): these build the command lines, for kernels started in a sandbox and for the
sandboxes a worker's zygote forks kernels into alike.
"""

from __future__ import annotations

import os
import site
import sys
from pathlib import Path

from grader.config import Limits

SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")


def readable_roots() -> list[Path]:
    """Paths the kernel must read: Python, its packages, the grader's probes, data caches.

    Only these are visible inside the bubblewrap sandbox, so the course folder
    (hidden tests, solutions) and other students' submissions are not.
    """
    import grader
    from grader import datasets

    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent}
    roots.update(Path(p) for p in site.getsitepackages())
    roots.add(Path(grader.__file__).resolve().parent)
    roots.update(datasets.data_dirs())
    resolved = {p.resolve() for p in roots if p.exists()} | {p for p in roots if p.exists()}
    return sorted(resolved)


def bubblewrap_argv(workdir: Path, limits: Limits, data: Path | None = None) -> list[str]:
    """The sandbox: namespaces, read-only system paths, sized tmpfs for everything written.

    The work folder on the host only holds the connection file and sockets; the kernel
    works in ``home/``, a tmpfs of ``disk_mb`` mounted over it, as is /tmp: a notebook
    that fills its disk fills that tmpfs, never the grader's disk.
    """
    disk = str(limits.disk_mb * 1024 * 1024)
    argv = ["bwrap", "--unshare-user", "--unshare-ipc", "--unshare-uts", "--unshare-pid"]
    argv += ["--die-with-parent", "--new-session"]
    if not limits.network:
        argv.append("--unshare-net")
    # The fresh /tmp comes first: binds below may live under /tmp (a checkout there, say)
    # and must land on top of it, not be hidden by it.
    argv += ["--size", disk, "--tmpfs", "/tmp"]
    for path in SYSTEM_PATHS:
        p = Path(path)
        if p.is_symlink():
            argv += ["--symlink", os.readlink(p), path]
        elif p.exists():
            argv += ["--ro-bind", path, path]
    for root in readable_roots():
        if not any(str(root).startswith(s + "/") for s in SYSTEM_PATHS):
            argv += ["--ro-bind", str(root), str(root)]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    for device in nvidia_devices():
        argv += ["--dev-bind", str(device), str(device)]
    home = workdir / "home"
    argv += ["--bind", str(workdir), str(workdir)]
    argv += ["--size", disk, "--tmpfs", str(home), "--dir", str(home / "tmp")]
    if data is not None:
        argv += ["--ro-bind", str(data), str(home / "data")]
    # bwrap's own root is an unsized tmpfs: read-only, so nothing fills memory through it.
    argv += ["--remount-ro", "/", "--chdir", str(home)]
    return argv + _prlimit(limits)


def unshare_argv(limits: Limits) -> list[str]:
    argv = ["unshare", "--user", "--map-root-user"]
    if not limits.network:
        argv.append("--net")
    return argv + _prlimit(limits)


def rlimits(limits: Limits) -> dict[str, int]:
    """The kernel's rlimits, by ``prlimit``'s option names."""
    # No single file beyond the disk allowance, wherever the notebook manages to write it.
    values = {"cpu": limits.effective_cpu_seconds(), "core": 0, "fsize": limits.disk_mb << 20}
    if not gpu_present():
        # CUDA reserves far more address space than it uses, so RLIMIT_AS would stop it
        # from starting; on GPU machines memory is left to the container runner.
        values["as"] = limits.memory_mb << 20
    return values


def _prlimit(limits: Limits) -> list[str]:
    return ["prlimit", *(f"--{name}={value}" for name, value in rlimits(limits).items()), "--"]


def nvidia_devices() -> list[Path]:
    """The NVIDIA device files a CUDA kernel needs, if this machine has a GPU."""
    return sorted(Path("/dev").glob("nvidia*"))


def gpu_present() -> bool:
    """A GPU the kernel can use: the driver's control device and at least one card."""
    devices = {p.name for p in nvidia_devices()}
    return "nvidiactl" in devices and any(name[6:].isdigit() for name in devices)
