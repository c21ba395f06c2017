"""A command run to its end while its process tree is sampled: wall time, output, CPU
and memory, split into the grader's processes and each kernel.

:class:`PeakMemory` counts as the grader every process that is not a kernel or a sandbox
wrapper, and as a kernel an ``ipykernel_launcher`` process, or one a worker's zygote
forked, with its children (the zygote's own CPU counts as the kernels'). A kernel's peak
RSS is read from /proc (``VmHWM``), which the kernel itself keeps, so a short spike
between two samples still counts.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages split among their users, so a process forked
    a moment before it execs (the sandbox's start) does not count its parent twice."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return _status_kb(pid, "VmRSS")


TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found += [int(p) for p in text]
    except OSError:
        pass
    return found


class Sampler:
    """Calls :meth:`sample` every ``interval`` seconds on a thread while the ``with`` block
    runs: the measured command keeps the main thread."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        raise NotImplementedError


class PeakMemory(Sampler):
    """Samples the tree under ``pid`` until stopped: memory and CPU, grader and kernels.

    ``grader_peak_mb`` is the highest sum of PSS over the grader's own processes seen at
    one sample (the CLI, the Dask scheduler, nannies and workers; sandbox wrappers left
    out), ``grader_largest_mb`` the highest PSS of one of them. :meth:`kernel_peak_list`
    gives each kernel's own peak RSS (VmHWM) plus, at the sample it was highest, the RSS
    of any processes it started. ``cpu_s`` is the CPU time each kind of process used
    (``grader``, ``kernel``, ``sandbox``; ``main`` is the part of ``grader`` used by
    ``pid`` itself), as last seen before each process exited: on a machine whose cores
    are all busy, wall time follows it.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(interval)
        self.pid = pid
        self.grader_peak_mb = 0.0
        self.grader_largest_mb = 0.0
        self.kernels: dict[int, float] = {}
        self._cpu: dict[int, tuple[str, float]] = {}

    @property
    def cpu_s(self) -> dict[str, float]:
        totals = {"grader": 0.0, "main": 0.0, "kernel": 0.0, "sandbox": 0.0}
        for pid, (kind, seconds) in self._cpu.items():
            totals[kind] += seconds
            if pid == self.pid:
                totals["main"] += seconds
        return totals

    def kernel_peak_list(self) -> list[float]:
        """Each kernel's peak, in MB, lowest first."""
        return sorted(self.kernels.values())

    def sample(self) -> None:
        grader_kb = 0
        # (pid, the kernel it belongs to, its depth below a kernel zygote or None)
        stack: list[tuple[int, int | None, int | None]] = [(self.pid, None, None)]
        kernel_kb: dict[int, int] = {}
        while stack:
            pid, kernel, below_zygote = stack.pop()
            argv = _cmdline(pid)
            if below_zygote is None and any("zygote_server" in part for part in argv[:4]):
                below_zygote = 0  # a worker's zygote: its imports are kernels' start-up CPU
            # A zygote forks a waiting parent, which forks the kernel (grader/runners/zygote*).
            is_kernel = below_zygote == 2 or any("ipykernel_launcher" in p for p in argv[:6])
            wrapper = bool(argv) and (
                Path(argv[0]).name in ("bwrap", "prlimit", "env", "unshare", "sleep")
                or any("zygote_launch" in part for part in argv[:5])
            )
            if kernel is None and is_kernel:
                kernel = pid
                kernel_kb[pid] = _status_kb(pid, "VmHWM")
            elif kernel is not None:
                kernel_kb[kernel] += _status_kb(pid, "VmRSS")
            elif not wrapper and below_zygote is None:
                own = _pss_kb(pid)
                grader_kb += own
                self.grader_largest_mb = max(self.grader_largest_mb, own / 1024)
            if kernel is not None or below_zygote is not None:
                kind = "kernel"
            else:
                kind = "sandbox" if wrapper else "grader"
            # A process that has exited but is not yet reaped has no command line: keep
            # the kind it had while it ran.
            kind = self._cpu[pid][0] if pid in self._cpu and not argv else kind
            self._cpu[pid] = (kind, _cpu_seconds(pid))
            deeper = None if below_zygote is None or is_kernel else below_zygote + 1
            stack += [(child, kernel, deeper) for child in _children(pid)]
        self.grader_peak_mb = max(self.grader_peak_mb, grader_kb / 1024)
        for pid, kb in kernel_kb.items():
            self.kernels[pid] = max(self.kernels.get(pid, 0.0), kb / 1024)


@dataclass
class Measured:
    """One command run under :class:`PeakMemory`: time, output, CPU and memory."""

    wall_s: float
    returncode: int
    output: str
    cpu_s: dict[str, float]
    grader_peak_mb: float
    kernel_peaks_mb: list[float]
    #: Seconds from launch at which each watched phrase first appeared in the output.
    marks: dict[str, float] = field(default_factory=dict)
    grader_largest_mb: float = 0.0

    def add(self, other: Measured) -> Measured:
        """Two runs back to back (a loop of commands): times and CPU add, peaks max."""
        cpu = {k: self.cpu_s.get(k, 0.0) + other.cpu_s.get(k, 0.0) for k in other.cpu_s}
        return Measured(
            self.wall_s + other.wall_s,
            self.returncode or other.returncode,
            self.output + other.output,
            cpu,
            max(self.grader_peak_mb, other.grader_peak_mb),
            sorted(self.kernel_peaks_mb + other.kernel_peaks_mb),
            grader_largest_mb=max(self.grader_largest_mb, other.grader_largest_mb),
        )


def run_measured(
    argv: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    watch: dict[str, str] | None = None,
) -> Measured:
    """Run ``argv`` to its end, sampling its process tree; ``watch`` maps name -> phrase."""
    marks: dict[str, float] = {}
    lines: list[str] = []
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            for name, phrase in (watch or {}).items():
                if phrase in line and name not in marks:
                    marks[name] = time.perf_counter() - started

    reader = threading.Thread(target=read, daemon=True)
    with PeakMemory(process.pid) as memory:
        reader.start()
        code = process.wait()
    reader.join()
    return Measured(
        wall_s=time.perf_counter() - started,
        returncode=code,
        output="".join(lines),
        cpu_s=memory.cpu_s,
        grader_peak_mb=memory.grader_peak_mb,
        kernel_peaks_mb=memory.kernel_peak_list(),
        marks=marks,
        grader_largest_mb=memory.grader_largest_mb,
    )
