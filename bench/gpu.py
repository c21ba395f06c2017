"""lenet5 on a GPU: grading time on the GPU against the CPU, and how many share one GPU.

    python bench/gpu.py [--repeat 2] [--workers 1 2 4 8] [--count 16] [--write]

Needs a machine with an NVIDIA GPU (``nvidia-smi``); elsewhere it says so and stops.

1. GPU against CPU: lenet5's ``alice_correct.ipynb`` executed bare (nbclient) and graded
   (``grade()`` + reports, in this process), in turns, with the GPU visible and with
   ``CUDA_VISIBLE_DEVICES=`` (the runner passes that variable to the kernel, so the
   notebook's own device choice falls back to the CPU; the GPU criteria then fail, which
   changes the score, not the timing's meaning).
2. Sharing: ``count`` copies of the submission graded by ``grader batch --workers W`` for
   each W, every kernel on the same GPU. Throughput (submissions per minute) grows with W
   until the GPU, the cores or memory run out; the table marks where it stops growing
   (less than 5% more than the W before). ``nvidia-smi`` is sampled for the GPU's peak
   memory and mean utilisation.

Prints markdown; ``--write`` puts it in docs/benchmarks.md (section ``gpu``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

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
from measured import Sampler, run_measured

GRADER = [sys.executable, "-c", "from grader.cli import run; run()"]
NOTEBOOK = EXAMPLES / "lenet5" / "alice_correct.ipynb"


def gpus(query: str = "name") -> list[str]:
    """One line per GPU that ``nvidia-smi`` lists: the fields of ``query`` (comma-separated)."""
    try:
        done = subprocess.run(
            ["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


class GpuSampler(Sampler):
    """Polls ``nvidia-smi`` for the GPU's memory in use and its utilisation."""

    QUERY = [
        "nvidia-smi",
        "--query-gpu=utilization.gpu,memory.used",
        "--format=csv,noheader,nounits",
    ]

    def __init__(self, interval: float = 0.5) -> None:
        super().__init__(interval)
        self.peak_mb = 0.0
        self.utilisation: list[float] = []

    def sample(self) -> None:
        try:
            line = subprocess.run(self.QUERY, capture_output=True, text=True, timeout=10).stdout
            util, used = (float(x) for x in line.splitlines()[0].split(","))
        except (OSError, subprocess.SubprocessError, ValueError, IndexError):
            return
        self.utilisation.append(util)
        self.peak_mb = max(self.peak_mb, used)


@contextmanager
def device(kind: str):
    """The GPU visible (``gpu``) or hidden from the kernel (``cpu``)."""
    previous = os.environ.get("CUDA_VISIBLE_DEVICES")
    if kind == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = previous


def graded_seconds() -> tuple[float, float]:
    """Grade lenet5's example in this process: seconds and points."""
    import tempfile
    import time

    from grader.course import find_course
    from grader.pipeline import grade, write_outputs

    assignment = find_course(ROOT).assignment("lenet5")
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as out:
        started = time.perf_counter()
        run = grade(assignment, NOTEBOOK)
        write_outputs(run, Path(out), assignment.course.templates_dir)
        return time.perf_counter() - started, run.result.score.points


def gpu_against_cpu(repeat: int) -> list[list[str]]:
    nb = prepared(NOTEBOOK, "lenet5")
    times: dict[str, dict[str, list[float]]] = {}
    points: dict[str, float] = {}
    for index in range(repeat):
        for kind in ("gpu", "cpu"):
            print(f"{kind}: run {index + 1} of {repeat}", file=sys.stderr)
            with device(kind):
                entry = times.setdefault(kind, {"bare": [], "graded": []})
                entry["bare"].append(bare_execute(nb)[0])
                seconds, points[kind] = graded_seconds()
                entry["graded"].append(seconds)
    rows = []
    for kind, entry in times.items():
        bare, graded = entry["bare"], entry["graded"]
        rows.append(
            [
                kind.upper(),
                spread(bare),
                spread(graded),
                f"{median(graded) / median(bare):.2f}x",
                f"{points[kind]:g}",
            ]
        )
    speedup = median(times["cpu"]["graded"]) / median(times["gpu"]["graded"])
    rows.append(["CPU / GPU", "", f"{speedup:.2f}x", "", ""])
    return rows


def sharing(workers: list[int], count: int, work: Path) -> list[list[str]]:
    subs = work / "submissions"
    subs.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        nb = nbformat.read(NOTEBOOK, as_version=4)
        nb.cells.append(nbformat.v4.new_markdown_cell(f"Submitted by student {index:02d}."))
        nbformat.write(nb, subs / f"student{index:02d}.ipynb")
    rows, previous = [], None
    for w in workers:
        print(f"sharing: {count} submissions, {w} worker(s)", file=sys.stderr)
        out = work / f"out-{w}"
        shutil.rmtree(out, ignore_errors=True)
        argv = [*GRADER, "batch", str(subs), "-a", "lenet5", "--course", str(ROOT)]
        argv += ["-o", str(out), "--workers", str(w)]
        with GpuSampler() as gpu:
            run = run_measured(argv)
        if run.returncode != 0:
            raise RuntimeError(f"grader batch exited {run.returncode}:\n{run.output[-3000:]}")
        throughput = count / run.wall_s * 60
        grows = previous is None or throughput > previous * 1.05
        previous = throughput
        kernels = run.kernel_peaks_mb
        rows.append(
            [
                str(w),
                f"{run.wall_s:.1f}",
                f"{throughput:.1f}",
                "yes" if grows else "**no**",
                f"{gpu.peak_mb:.0f}",
                f"{median(gpu.utilisation):.0f}" if gpu.utilisation else "-",
                f"{max(kernels):.0f}" if kernels else "-",
                f"{run.grader_peak_mb:.0f}",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-gpu"))
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    names = gpus()
    if not names:
        print("no NVIDIA GPU here (nvidia-smi found none): nothing measured")
        return
    started_load = load()
    shutil.rmtree(args.out, ignore_errors=True)
    versus = gpu_against_cpu(args.repeat)
    shared = sharing(args.workers, args.count, args.out)
    text = "\n".join(
        [
            "## lenet5 on a GPU",
            "",
            f"`python bench/gpu.py --repeat {args.repeat} --workers "
            f"{' '.join(map(str, args.workers))} --count {args.count}` on {machine()}; "
            f"load average at the start {started_load}, at the end {load()}.",
            "",
            f"GPU against CPU (lenet5 `alice_correct.ipynb`, seconds, median of {args.repeat}; "
            "CPU = `CUDA_VISIBLE_DEVICES=` for the kernel, whose GPU criteria then fail):",
            "",
            table(["device", "bare s", "graded s", "graded / bare", "score"], versus),
            "",
            f"One GPU shared: {args.count} copies graded by `grader batch --workers W`; "
            "throughput in submissions per minute; GPU memory and utilisation from "
            "`nvidia-smi` (peak, median); kernel and grader memory as in the batch table.",
            "",
            table(
                [
                    "workers",
                    "wall s",
                    "per minute",
                    "still growing",
                    "GPU memory MB",
                    "GPU util %",
                    "kernel peak MB",
                    "grader peak MB",
                ],
                shared,
            ),
        ]
    )
    print(text)
    if args.write:
        write_section("gpu", text)


if __name__ == "__main__":
    main()
