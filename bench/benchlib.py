"""What the benchmark scripts share: the machine, the floor, memory, and docs/benchmarks.md.

* :func:`bare_execute` is the floor every ratio is taken against: the notebook executed
  with plain nbclient in this environment (kernel start, every cell, shutdown), no
  sandbox, no tests, no report.
* :class:`PeakMemory` samples a process tree while a command runs and splits it into the
  grader (every process that is not a kernel or a sandbox wrapper) and each kernel (an
  ``ipykernel_launcher`` process, or one a worker's zygote forked, and its children;
  the zygote's own CPU counts as the kernels'), reading the kernel's peak RSS
  (``VmHWM``) from /proc, which the kernel itself keeps, so a short spike between two
  samples still counts.
* :func:`write_section` replaces one marked section of docs/benchmarks.md (or appends it),
  so each script rewrites only its own table.
"""

from __future__ import annotations

import copy
import os
import platform
import re
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
EXAMPLES = ROOT / "examples" / "submissions"
#: bench/peers' port of the backprop tests, run inside a plain kernel for the tested floor.
CHECKS = ROOT / "bench" / "peers" / "support" / "backprop_checks.py"


# -- the machine ------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def machine() -> str:
    """One line naming the machine, for the heading of every table."""
    gpu = "no GPU"
    try:
        names = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout.split("\n")
        gpu = ", ".join(n.strip() for n in names if n.strip()) or gpu
    except (OSError, subprocess.SubprocessError):
        pass
    return (
        f"{platform.node()}: {cpu_model()}, {os.cpu_count()} cores, {memory_gib():.0f} GiB, "
        f"{gpu}, Python {platform.python_version()}"
    )


def load() -> str:
    """The 1-minute load average: above the core count, the timings are not quiet."""
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (5 min {five:.2f})"


# -- the floor: bare nbclient -------------------------------------------------------------------


def prepared(notebook: Path, assignment: str | None) -> nbformat.NotebookNode:
    """The notebook as the grader executes it: its assignment's grading parameters injected."""
    from grader.course import find_course
    from grader.notebook import prepare

    nb = nbformat.read(notebook, as_version=4)
    if assignment is None:
        return nb
    config = find_course(ROOT).assignment(assignment).config
    return prepare(nb, config.grading_parameters)


def bare_execute(
    nb: nbformat.NotebookNode,
    *,
    files: Iterable[Path] = (),
    kernel_name: str = "python3",
    timeout: int = 600,
) -> tuple[float, nbformat.NotebookNode]:
    """Seconds to run ``nb`` with plain nbclient (kernel start to shutdown), and the result.

    ``files`` are copied beside the notebook first (its working folder is a fresh temp
    folder, as in the grader). The kernel's stderr goes nowhere: cell errors are outputs.
    """
    import shutil

    from nbclient import NotebookClient

    nb = copy.deepcopy(nb)
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as folder:
        for path in files:
            target = Path(folder) / path.name
            if path.is_dir():
                shutil.copytree(path, target)
            else:
                shutil.copy(path, target)
        for attempt in range(3):
            run = copy.deepcopy(nb)
            client = NotebookClient(
                run,
                kernel_name=kernel_name,
                timeout=timeout,
                allow_errors=True,
                resources={"metadata": {"path": folder}},
            )
            started = time.perf_counter()
            try:
                client.execute(stderr=subprocess.DEVNULL)
            except RuntimeError as exc:
                # Two plain kernels started at once can pick the same free TCP port; the
                # loser dies before its first reply. That is the floor's harness, not the
                # notebook: start it again (at most twice) and time the run that worked.
                if "died before replying" not in str(exc) or attempt == 2:
                    raise
                continue
            return time.perf_counter() - started, run
        raise AssertionError("unreachable")


def example_floors(examples: Iterable[Path], repeat: int) -> dict[str, tuple[float, float]]:
    """``name -> (bare s, tested bare s)`` of each backprop example, medians of ``repeat``.

    *Bare* runs the notebook; *tested bare* runs it and then bench/peers' port of the
    lab's tests in one more cell, in the same plain kernel: the work every grader must
    do (backprop's XOR test alone trains 16 networks), with no grader around it.
    """
    import sys

    floors = {}
    for path in examples:
        bare = median(bare_execute(prepared(path, "backprop"))[0] for _ in range(repeat))
        tested = median(_tested_once(path) for _ in range(repeat))
        floors[path.name] = (bare, tested)
        print(f"floor {path.name}: {bare:.2f} s, with the tests {tested:.2f} s", file=sys.stderr)
    return floors


def tested_notebook(path: Path) -> nbformat.NotebookNode:
    """The prepared backprop notebook with bench/peers' port of its tests as a last cell."""
    nb = prepared(path, "backprop")
    tests = "import backprop_checks\nbackprop_checks.grade_all(globals())"
    nb.cells.append(nbformat.v4.new_code_cell(tests))
    return nb


def _tested_once(path: Path) -> float:
    return bare_execute(tested_notebook(path), files=[CHECKS])[0]


def _ready(_: int) -> int:
    return os.getpid()


def timed_side_by_side(func: Callable[[Any], Any], jobs: list[Any], workers: int) -> float:
    """Wall seconds for ``func`` over ``jobs`` in ``workers`` spawned processes at a time;
    the processes are started and imported before the clock does."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        list(pool.map(_ready, range(workers * 4)))  # every worker up and imported
        started = time.perf_counter()
        list(pool.map(func, jobs))
        return time.perf_counter() - started


def tested_in_parallel(paths: list[Path], workers: int) -> float:
    """Wall seconds to run every notebook and its tests in plain kernels, W at a time.

    The floor a W-worker batch meets on this machine: what W plain kernels doing the same
    work in parallel take, with no grader around them (two kernels on two busy cores do
    not run quite twice as fast as one).
    """
    return timed_side_by_side(_tested_once, paths, workers)


# -- memory --------------------------------------------------------------------------------------


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


class PeakMemory:
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
        self.pid = pid
        self.interval = interval
        self.grader_peak_mb = 0.0
        self.grader_largest_mb = 0.0
        self.kernels: dict[int, float] = {}
        self._cpu: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

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

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

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


def self_peak_mb() -> float:
    """This process's own peak RSS."""
    return _status_kb(os.getpid(), "VmHWM") / 1024


# -- submissions ----------------------------------------------------------------------------------


def backprop_examples(include_slow: bool = False) -> list[Path]:
    """The backprop examples; frank's numerical backward (several times the rest's grading)
    left out, as in every batch table so far."""
    found = sorted((EXAMPLES / "backprop").glob("*.ipynb"))
    return [p for p in found if include_slow or "numerical" not in p.name]


def make_submissions(folder: Path, count: int, include_slow: bool = False) -> list[Path]:
    """``count`` distinct backprop notebooks cycled from the examples (bench/batch_demo.py's)."""
    examples = backprop_examples(include_slow)
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for index in range(count):
        nb = nbformat.read(examples[index % len(examples)], as_version=4)
        nb.cells.append(nbformat.v4.new_markdown_cell(f"Submitted by student {index:02d}."))
        path = folder / f"student{index:02d}.ipynb"
        nbformat.write(nb, path)
        made.append(path)
    return made


def example_of(index: int, include_slow: bool = False) -> Path:
    """Which example submission ``student{index}`` was made from."""
    examples = backprop_examples(include_slow)
    return examples[index % len(examples)]


# -- numbers and docs ---------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def spread(values: list[float]) -> str:
    """``4.3`` for one value, ``4.3 (4.1-4.9)`` for several."""
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(name: str, markdown: str, path: Path = DOCS) -> None:
    """Put ``markdown`` between this section's markers in docs/benchmarks.md.

    The markers are HTML comments (``<!-- bench:NAME -->`` ... ``<!-- /bench:NAME -->``), so
    a rerun replaces exactly its own section and leaves everything else as it was.
    """
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def chosen_labs(names: list[str], every: bool) -> list[str]:
    """The labs a bench was asked for: the names given, or the whole course with --all."""
    if names:
        return names
    from grader.course import find_course

    return find_course(ROOT).assignment_names() if every else []
