"""What the benchmark scripts share: the machine, the floor, submissions, docs/benchmarks.md.

* :func:`bare_execute` is the floor every ratio is taken against: the notebook executed
  with plain nbclient in this environment (kernel start, every cell, shutdown), no
  sandbox, no tests, no report.
* Commands are run and measured (time, CPU, the grader's and each kernel's memory) by
  bench/measured.py.
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
import time
from collections.abc import Callable, Iterable
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
