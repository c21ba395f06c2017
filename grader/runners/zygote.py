"""Kernels forked from a zygote that imported their modules once (a batch worker's).

A batch worker's kernels all import the same modules (ipykernel, the lab's framework,
pyplot) before their first cell; on a busy machine that is CPU the kernels themselves
need, per submission. The worker's :class:`~grader.runners.warm.KernelPool` keeps one
zygote per :class:`Recipe` (:mod:`grader.runners.zygote_server`), and the local runner's
kernel command becomes :mod:`grader.runners.zygote_launch`, which builds bubblewrap's
sandbox exactly as for any kernel and has the zygote fork the kernel into it.

A zygote is what its recipe says (environment and imports), whoever started it: a
local batch starts one as it begins and its workers share it (:meth:`Zygote.attach`),
so it imports while the cluster starts, once rather than once per worker.

Used only where that keeps every confinement a kernel has today: bubblewrap, no GPU (a
CUDA context does not survive fork), and no TensorFlow among the imports (its runtime
is not fork-safe). ``GRADER_ZYGOTE=off`` turns it off; anything that goes wrong starting
one falls back to kernels started from scratch, with a warning.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

LAUNCHER = Path(__file__).with_name("zygote_launch.py")
#: What every zygote imports besides the lab's modules: the kernel itself.
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel")
#: Modules whose runtime does not survive a fork; a kind that imports one gets no zygote.
NOT_FORK_SAFE = ("tensorflow", "keras", "jax")


def zygote_allowed(sandbox: str, gpu: bool, imports: tuple[str, ...]) -> bool:
    """Whether kernels of this kind may be forked from a zygote (see the module's text)."""
    if os.environ.get("GRADER_ZYGOTE", "on").lower() in ("off", "0", "no", "false"):
        return False
    roots = {name.split(".")[0] for name in imports}
    return sandbox == "bubblewrap" and not gpu and not roots & set(NOT_FORK_SAFE)


@dataclass(frozen=True)
class Recipe:
    """What a zygote is made of: a kernel's clean environment and the modules it imports.

    Two kernels may come from the same zygote exactly when their recipes are equal.
    """

    env: dict[str, str]
    imports: tuple[str, ...]

    @property
    def key(self) -> str:
        return json.dumps([sorted(self.env.items()), list(self.imports)])

    def start(self) -> Zygote:
        return start_zygote(self.env, self.imports)


@dataclass
class Zygote:
    """A running zygote: its pid and the folder of the socket it forks kernels on.

    ``process`` is set in the process that started it, which alone ends it; a zygote
    attached from its :meth:`reference` (a batch worker using the batch's) is only used.
    """

    pid: int
    folder: Path
    process: subprocess.Popen | None = None

    @property
    def socket_path(self) -> Path:
        return self.folder / "zygote.sock"

    def reference(self) -> dict[str, str | int]:
        """What another process on this machine needs to use it (JSON)."""
        return {"pid": self.pid, "folder": str(self.folder)}

    @classmethod
    def attach(cls, reference: dict[str, str | int]) -> Zygote:
        return cls(int(reference["pid"]), Path(str(reference["folder"])))

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        try:  # another process's child: running unless gone or a zombie (its socket
            # may not be bound yet: a launcher waits for it while the zygote runs)
            state = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X")

    def close(self) -> None:
        """End it and remove its folder; an attached zygote is left to its owner."""
        if self.process is None:
            return
        if self.alive():
            self.process.kill()
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def launcher_argv(
        self,
        *,
        env: dict[str, str],
        cwd: Path,
        rlimits: dict[str, int],
        cgroup_procs: list[Path],
        bwrap_argv: list[str],
    ) -> list[str]:
        """The kernel command: the launcher, its request, then the sandbox's argv."""
        request = {
            "zygote": str(self.socket_path),
            "zygote_pid": self.pid,
            "parent_pid": os.getpid(),  # the worker: the launcher dies with it
            "connection_file": "{connection_file}",  # jupyter_client fills it in
            "cwd": str(cwd),
            "env": env,
            "rlimits": rlimits,
            "cgroup_procs": [str(p) for p in cgroup_procs],
        }
        return [sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(request), "--", *bwrap_argv]


def start_zygote(env: dict[str, str], imports: tuple[str, ...]) -> Zygote:
    """A zygote with ``env`` (a kernel's clean environment) that has imported ``imports``.

    Its folder holds the socket and its own home (matplotlib's cache); it is made by the
    grader outside /tmp's kernel folders, and no sandbox binds it. It ends when the
    process that started it does.
    """
    folder = Path(tempfile.mkdtemp(prefix="dlgrader-zygote-"))
    home = folder / "home"
    (home / "tmp").mkdir(parents=True)
    env = {
        **env,
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "MPLCONFIGDIR": str(home / ".matplotlib"),
    }
    modules = [*imports, *KERNEL_MODULES]
    argv = [sys.executable, "-m", "grader.runners.zygote_server", str(folder / "zygote.sock")]
    # Not waited for: the socket listens at once and a launcher's connection waits while
    # the zygote imports, so a worker's first kernel is not held up by the zygote's start.
    process = subprocess.Popen(
        [*argv, *modules], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, cwd=home
    )
    return Zygote(process.pid, folder, process)
