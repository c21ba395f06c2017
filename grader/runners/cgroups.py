"""A pids and a memory cgroup around one kernel: limits rlimits cannot give, and a reaper.

As root, ``RLIMIT_NPROC`` is ignored, so only a pids cgroup stops a fork bomb; and
``RLIMIT_AS`` must be dropped on GPU machines (CUDA reserves far more address space than
it uses), so a memory cgroup is the memory limit there. A cgroup also knows every process
the kernel ever started, double-forked daemons included: killing its members is a reaper
that nothing inside can escape.

Both cgroup v1 (one hierarchy per controller) and v2 (one unified hierarchy with the
controllers enabled) are supported. Where neither is writable, ``KernelCgroup.create``
returns None and the runner says so in its warnings; rlimits then remain the only limits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_path(controller: str) -> str | None:
    """This process's cgroup path for ``controller`` (v1), or the unified path (``""``)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return path
    return None


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


@dataclass
class KernelCgroup:
    """The cgroup folders (one per controller in v1, one in v2) of a single kernel."""

    pids_dir: Path
    memory_dir: Path
    version: int

    @classmethod
    def create(cls, memory_bytes: int, pids_max: int) -> KernelCgroup | None:
        """Make the cgroups and set their limits; None where cgroups are not writable."""
        name = f"dlgrader-{uuid.uuid4().hex[:12]}"
        for make in (cls._v1, cls._v2):
            try:
                group = make(name)
            except OSError as exc:
                log.debug("cgroup setup failed: %s", exc)
                continue
            if group is None:
                continue
            try:
                group._limit(memory_bytes, pids_max)
            except OSError as exc:
                log.debug("cgroup limits could not be set: %s", exc)
                group.remove()
                continue
            return group
        return None

    @classmethod
    def _v1(cls, name: str) -> KernelCgroup | None:
        pids, memory = _own_path("pids"), _own_path("memory")
        if pids is None or memory is None:
            return None
        parents = (
            CGROUP_ROOT / "pids" / pids.lstrip("/"),
            CGROUP_ROOT / "memory" / memory.lstrip("/"),
        )
        if not all(_writable_dir(p) for p in parents):
            return None
        made = []
        try:
            for parent in parents:
                (parent / name).mkdir()
                made.append(parent / name)
        except OSError:
            for folder in made:
                folder.rmdir()
            raise
        return cls(pids_dir=made[0], memory_dir=made[1], version=1)

    @classmethod
    def _v2(cls, name: str) -> KernelCgroup | None:
        controllers = CGROUP_ROOT / "cgroup.controllers"
        own = _own_path("")
        if not controllers.is_file() or own is None:
            return None
        parent = CGROUP_ROOT / own.lstrip("/")
        enabled = set((parent / "cgroup.subtree_control").read_text().split())
        if not {"memory", "pids"} <= enabled:
            return None  # enabling them needs a parent without processes: not ours to change
        folder = parent / name
        folder.mkdir()
        return cls(pids_dir=folder, memory_dir=folder, version=2)

    def _limit(self, memory_bytes: int, pids_max: int) -> None:
        (self.pids_dir / "pids.max").write_text(str(pids_max))
        if self.version == 2:
            (self.memory_dir / "memory.max").write_text(str(memory_bytes))
            with contextlib.suppress(OSError):
                (self.memory_dir / "memory.swap.max").write_text("0")
            return
        (self.memory_dir / "memory.limit_in_bytes").write_text(str(memory_bytes))
        with contextlib.suppress(OSError):  # absent without swap accounting
            (self.memory_dir / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))

    def enter_argv(self) -> list[str]:
        """A prefix that moves the launched process into the cgroups, then execs the rest.

        The process joins before it execs the sandbox, so no child can be born outside.
        """
        folders = " ".join(
            f"'{d}/cgroup.procs'" for d in dict.fromkeys((self.pids_dir, self.memory_dir))
        )
        script = f'for f in {folders}; do echo $$ > "$f" || exit 97; done; exec "$@"'
        return ["sh", "-c", script, "dlgrader-cgroup"]

    def procs_files(self) -> list[Path]:
        """The ``cgroup.procs`` files a process writes its pid to, to join the cgroups."""
        return [d / "cgroup.procs" for d in dict.fromkeys((self.pids_dir, self.memory_dir))]

    def breaches(self) -> list[str]:
        """Which limits the kernel ran into, in words for the student."""
        found = []
        if _event_count(self.pids_dir / "pids.events", "max"):
            found.append("process limit")
        memory_events = "memory.events" if self.version == 2 else "memory.oom_control"
        if _event_count(self.memory_dir / memory_events, "oom_kill"):
            found.append("memory limit")
        return found

    def pids(self) -> list[int]:
        try:
            text = (self.pids_dir / "cgroup.procs").read_text()
        except OSError:
            return []
        return [int(line) for line in text.split()]

    def kill_all(self, patience_s: float = 5.0) -> None:
        """SIGKILL every member until none is left (new forks are caught on the next pass)."""
        deadline = time.monotonic() + patience_s
        while (members := self.pids()) and time.monotonic() < deadline:
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)

    def remove(self) -> None:
        self.kill_all()
        for folder in dict.fromkeys((self.pids_dir, self.memory_dir)):
            for _ in range(50):  # rmdir fails until the last member is gone
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def _event_count(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0
