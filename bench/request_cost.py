"""What one bridge request costs the grader and the kernel, on the comm link and as an execution.

    python bench/request_cost.py [--requests 400] [--rounds 3] [--write]

Starts a sandboxed kernel as grading does (``live_notebook``), defines a function that
returns its argument, and times ``nb.call`` of it with a 10-element array: the CPU seconds
of this process (the grader's side) and of the kernel's process tree, and the wall
time, per request. Once on the comm link (the default since issue 23) and once with the
link left closed, so every request is a silent execution of the fixed statement; the
rounds alternate. A backprop grading sends ~90 requests.

Prints markdown; ``--write`` puts it in docs/benchmarks.md (section ``request-cost``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import psutil
from benchlib import load, machine, median, table, write_section

CELLS = ["def echo(x):\n    return x"]


def kernel_cpu() -> float:
    total = 0.0
    for process in psutil.Process().children(recursive=True):
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def cost(requests: int, link: bool) -> tuple[float, float, float]:
    """Milliseconds per request: grader CPU, kernel CPU, wall."""
    from grader.bridge import Bridge
    from grader.testing.live import live_notebook

    opened = Bridge._open_link
    if not link:
        Bridge._open_link = lambda self: None  # type: ignore[method-assign]
    try:
        with live_notebook(CELLS) as (nb, _run):
            x = np.arange(10.0)
            for _ in range(20):  # the link is open, the kernel warm
                nb.call("echo", x)
            grader, kernel, wall = time.process_time(), kernel_cpu(), time.perf_counter()
            for _ in range(requests):
                nb.call("echo", x)
            grader = time.process_time() - grader
            kernel, wall = kernel_cpu() - kernel, time.perf_counter() - wall
    finally:
        Bridge._open_link = opened  # type: ignore[method-assign]
    return tuple(1000 * v / requests for v in (grader, kernel, wall))  # type: ignore[return-value]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    started = load()
    measured: dict[str, list[tuple[float, float, float]]] = {"comm link": [], "execution": []}
    for _ in range(args.rounds):
        for name in measured:
            measured[name].append(cost(args.requests, link=name == "comm link"))
    rows = [
        [name, *(f"{median(v[i] for v in values):.2f}" for i in range(3))]
        for name, values in measured.items()
    ]
    text = (
        f"`python bench/request_cost.py --requests {args.requests} --rounds {args.rounds}` on "
        f"{machine()}; load average at the start {started}. Median of the rounds, "
        "milliseconds per `nb.call` of a function returning a 10-element array.\n\n"
        + table(["transport", "grader CPU ms", "kernel CPU ms", "wall ms"], rows)
    )
    print(text)
    if args.write:
        write_section("request-cost", "## What one request costs (issue 23)\n\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
