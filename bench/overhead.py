"""Grading one submission against the floor: the same notebook executed bare with nbclient.

    python bench/overhead.py [ASSIGNMENT ...] [--repeat 3] [--write]

For each assignment (default: lenet5 and backprop) one submission (its examples'
``alice_correct.ipynb``, else the reference solution) is, ``--repeat`` times, in turns:

* executed bare: plain nbclient in this environment, the grading parameters injected,
  kernel start to shutdown (the floor);
* graded in this process (``grader.pipeline.grade`` + ``write_outputs``), with every phase
  timed from outside the grader's code (wrapped, not edited): sandbox setup, kernel start,
  the cells, the tests (each request's time in the kernel, its round trip, pytest's own),
  the integrity checks, teardown, the report;
* graded by the CLI, ``grader grade`` as its own process (Python start and imports too).

The work floor adds to the bare time what the tests ask the kernel to compute (the sum
of each request's execution time in the kernel, from the kernel's own execute_reply
timestamps): backprop's XOR test trains 16 networks, work no grader can skip. For
backprop it is also measured directly: the notebook plus bench/peers' port of the tests
in one extra cell, executed bare (what a grader that tests inside the kernel must pay).

Prints markdown; ``--write`` puts it in docs/benchmarks.md (section ``overhead``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
from benchlib import (
    EXAMPLES,
    ROOT,
    bare_execute,
    load,
    machine,
    median,
    prepared,
    spread,
    table,
    write_section,
)

from grader.runners.local import LocalRunner

SUPPORT = ROOT / "bench" / "peers" / "support"


class Profile:
    """Times the phases of one ``grade()`` by wrapping the functions it calls."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}
        self.requests: list[dict[str, Any]] = []
        self.phase = "other"
        self._undo: list[tuple[object, str, object]] = []

    def _patch(self, owner: object, name: str, new: object) -> None:
        self._undo.append((owner, name, getattr(owner, name)))
        setattr(owner, name, new)

    def __enter__(self) -> Profile:
        from jupyter_client.blocking.client import BlockingKernelClient

        import grader.pipeline as pipeline
        from grader.bridge import Bridge

        profile = self
        request, interactive = Bridge.request, BlockingKernelClient.execute_interactive
        run_notebook, run_tests = pipeline.run_notebook, pipeline.run_tests
        collect = pipeline.integrity.collect

        def timed_request(bridge, op, /, timeout=None, **fields):
            entry = {"op": op, "what": str(fields.get("target") or fields.get("probe"))[:40]}
            entry.update(phase=profile.phase, kernel_s=0.0)
            profile.requests.append(entry)
            started = time.perf_counter()
            try:
                return request(bridge, op, timeout=timeout, **fields)
            finally:
                entry["host_s"] = time.perf_counter() - started

        def timed_interactive(client, code, *args, **kwargs):
            reply = interactive(client, code, *args, **kwargs)
            started = reply.get("metadata", {}).get("started")
            if profile.requests and started:
                finished = _when(reply["header"]["date"])
                profile.requests[-1]["kernel_s"] = (finished - _when(started)).total_seconds()
            return reply

        @contextmanager
        def timed_run_notebook(*args, **kwargs) -> Iterator[Any]:
            profile.marks["kernel_begin"] = time.perf_counter()
            with run_notebook(*args, **kwargs) as run:
                profile.marks["cells_end"] = time.perf_counter()
                profile.marks["execute_s"] = run.execution.duration_s
                yield run
                profile.marks["teardown_begin"] = time.perf_counter()

        def timed_tests(*args, **kwargs):
            profile.phase = "tests"
            try:
                return run_tests(*args, **kwargs)
            finally:
                profile.phase = "other"

        def timed_collect(*args, **kwargs):
            started = time.perf_counter()
            try:
                return collect(*args, **kwargs)
            finally:
                profile.marks["integrity_s"] = time.perf_counter() - started

        self._patch(Bridge, "request", timed_request)
        self._patch(BlockingKernelClient, "execute_interactive", timed_interactive)
        self._patch(pipeline, "run_notebook", timed_run_notebook)
        self._patch(pipeline, "run_tests", timed_tests)
        self._patch(pipeline.integrity, "collect", timed_collect)
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, old in reversed(self._undo):
            setattr(owner, name, old)


def _when(stamp: Any):
    from datetime import datetime

    return stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))


class TimedRunner(LocalRunner):
    """The local runner, marking when its session (sandbox, kernel) is torn down."""

    def __init__(self, marks: dict[str, float]) -> None:
        super().__init__()
        self.marks = marks

    @contextmanager
    def session(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.marks["session_begin"] = time.perf_counter()
        with super().session(*args, **kwargs) as session:
            yield session
        self.marks["kernel_end"] = time.perf_counter()


def graded_once(name: str, notebook: Path) -> dict[str, float]:
    """Grade in this process, phases timed; seconds per phase."""
    from grader.course import find_course
    from grader.pipeline import grade, write_outputs

    assignment = find_course(ROOT).assignment(name)
    with Profile() as profile, tempfile.TemporaryDirectory(prefix="bench-graded-") as out:
        started = time.perf_counter()
        run = grade(assignment, notebook, runner=TimedRunner(profile.marks))
        graded = time.perf_counter()
        write_outputs(run, Path(out), assignment.course.templates_dir)
        written = time.perf_counter()
    marks, result = profile.marks, run.result
    tests = [r for r in profile.requests if r["phase"] == "tests"]
    in_kernel = sum(r["kernel_s"] for r in profile.requests)
    round_trips = sum(r["host_s"] for r in profile.requests) - in_kernel
    kernel_start = marks["cells_end"] - marks["kernel_begin"] - marks["execute_s"]
    return {
        "score": result.score.points,
        "total_s": written - started,
        "setup_s": marks["kernel_begin"] - started,  # read, prepare, sandbox folder, cgroup
        "kernel_start_s": kernel_start,
        "cells_s": marks["execute_s"],
        "tests_s": result.timings.tests_s,
        "requests": len(profile.requests),
        "test_requests": len(tests),
        "in_kernel_s": in_kernel,
        "round_trips_s": round_trips,
        "pytest_s": result.timings.tests_s - sum(r["host_s"] for r in tests),
        "integrity_s": marks.get("integrity_s", 0.0),
        "teardown_s": marks["kernel_end"] - marks["teardown_begin"],
        "score_s": graded - marks["kernel_end"],
        "report_s": written - graded,
        "busiest": _busiest(profile.requests),
    }


def _busiest(requests: list[dict[str, Any]]) -> str:
    """The request target that took most kernel time, e.g. ``train x20 3.6 s``."""
    totals: dict[str, list[float]] = {}
    for r in requests:
        entry = totals.setdefault(f"{r['op']} {r['what']}", [0, 0.0])
        entry[0] += 1
        entry[1] += r["kernel_s"]
    what, (count, seconds) = max(totals.items(), key=lambda item: item[1][1])
    return f"{what} x{count:.0f}: {seconds:.1f} s"


def cli_once(name: str, notebook: Path) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as out:
        argv = [sys.executable, "-c", "from grader.cli import run; run()", "grade", str(notebook)]
        argv += ["-a", name, "--course", str(ROOT), "-o", out]
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        return time.perf_counter() - started


def tested_bare_once(notebook: Path) -> tuple[float, float]:
    """backprop: the notebook plus the ported tests in one cell, bare; seconds and points."""
    nb = nbformat.read(notebook, as_version=4)
    source = "import json, backprop_checks\n"
    source += "print(json.dumps(backprop_checks.grade_all(globals())))"
    nb.cells.append(nbformat.v4.new_code_cell(source))
    seconds, done = bare_execute(nb, files=[SUPPORT / "backprop_checks.py"])
    text = "".join(o.get("text", "") for o in done.cells[-1].outputs if o.get("name") == "stdout")
    return seconds, sum(json.loads(text).values()) if text.strip() else float("nan")


def submission(name: str) -> Path:
    example = EXAMPLES / name / "alice_correct.ipynb"
    return example if example.exists() else ROOT / "solutions" / f"{name}.ipynb"


def measure(name: str, repeat: int, cli: bool) -> dict[str, Any]:
    notebook = submission(name)
    nb = prepared(notebook, name)
    empty = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
    runs: dict[str, list[Any]] = {"bare": [], "empty": [], "graded": [], "cli": [], "tested": []}
    for index in range(repeat):
        print(f"{name}: run {index + 1} of {repeat}", file=sys.stderr)
        runs["empty"].append(bare_execute(empty)[0])
        runs["bare"].append(bare_execute(nb)[0])
        runs["graded"].append(graded_once(name, notebook))
        if cli:
            runs["cli"].append(cli_once(name, notebook))
        if name == "backprop":
            runs["tested"].append(tested_bare_once(notebook))
        print(json.dumps({k: v[-1] for k, v in runs.items() if v}, default=str), file=sys.stderr)
    return {"name": name, "notebook": notebook, **runs}


def phase(runs: list[dict[str, Any]], key: str) -> float:
    return median(r[key] for r in runs)


def report(results: list[dict[str, Any]], repeat: int, started_load: str) -> str:
    rows, phases = [], []
    for r in results:
        graded = [g["total_s"] for g in r["graded"]]
        bare = r["bare"]
        # Medians added, not per-run sums: one slow run of either must not pair up.
        work = median(bare) + median(g["in_kernel_s"] for g in r["graded"])
        tested = [t[0] for t in r["tested"]]
        rows.append(
            [
                r["name"],
                r["notebook"].name,
                spread(bare),
                spread(graded),
                f"**{median(graded) / median(bare):.2f}x**",
                f"{work:.1f}",
                f"{median(graded) / work:.2f}x",
                spread(tested) if tested else "-",
                f"{median(graded) / median(tested):.2f}x" if tested else "-",
                spread(r["cli"]) if r["cli"] else "-",
            ]
        )
        g = r["graded"]
        phases.append(
            [
                r["name"],
                f"{median(r['empty']):.2f}",
                f"{phase(g, 'setup_s'):.2f}",
                f"{phase(g, 'kernel_start_s'):.2f}",
                f"{phase(g, 'cells_s'):.2f}",
                f"{phase(g, 'tests_s'):.2f}",
                f"{phase(g, 'requests'):.0f}",
                f"{phase(g, 'in_kernel_s'):.2f}",
                f"{phase(g, 'round_trips_s'):.2f}",
                f"{phase(g, 'pytest_s'):.2f}",
                f"{phase(g, 'integrity_s'):.2f}",
                f"{phase(g, 'teardown_s'):.2f}",
                f"{phase(g, 'score_s'):.2f}",
                f"{phase(g, 'report_s'):.2f}",
                g[0]["busiest"],
            ]
        )
    lines = [
        "## Grading overhead against bare nbclient",
        "",
        f"`python bench/overhead.py {' '.join(r['name'] for r in results)} --repeat {repeat}` "
        f"on {machine()}; load average at the start {started_load}, at the end {load()}. "
        f"Seconds, median (min-max) of {repeat} runs taken in turns.",
        "",
        "* **bare**: the notebook (grading parameters injected) run by plain nbclient, "
        "kernel start to shutdown: the floor.",
        "* **graded**: `grade()` + `write_outputs()` in a warm process (sandboxed kernel, "
        "cells, every test, scoring, reports).",
        "* **work floor**: median bare + the median seconds the tests' requests spent "
        "executing in the kernel (what the tests ask to be computed). **tested bare** "
        "measures it directly for backprop: the notebook plus bench/peers' port of its tests "
        "in one cell.",
        "* **CLI**: `grader grade` as its own process (interpreter start and imports too).",
        "",
        table(
            [
                "assignment",
                "notebook",
                "bare s",
                "graded s",
                "graded / bare",
                "work floor s",
                "graded / work floor",
                "tested bare s",
                "graded / tested bare",
                "CLI s",
            ],
            rows,
        ),
        "",
        "Where the graded time goes (medians, seconds; `empty kernel` is nbclient starting "
        "and stopping a kernel for one `pass` cell, no sandbox):",
        "",
        table(
            [
                "assignment",
                "empty kernel",
                "setup",
                "kernel start",
                "cells",
                "tests",
                "requests",
                "in kernel",
                "round trips",
                "pytest",
                "integrity",
                "teardown",
                "scoring",
                "report",
                "busiest request",
            ],
            phases,
        ),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", default=["lenet5", "backprop"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-cli", action="store_true", help="skip the `grader grade` runs")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    started_load = load()
    results = [measure(name, args.repeat, not args.no_cli) for name in args.assignments]
    text = report(results, args.repeat, started_load)
    print(text)
    if args.write:
        write_section("overhead", text)


if __name__ == "__main__":
    main()
