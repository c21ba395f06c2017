"""The GPU proof's phase 6: N copies of lenet5 graded at once on one GPU.

Throughput, GPU memory (card and per kernel, from ``nvidia-smi``) and the N where
throughput stops growing; see bench/gpu_proof.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from gpu_proof_criteria import LENET5_ALICE
from gpu_proof_report import ROOT, Report


def gpu_watch(interval: float = 0.5):
    """``bench/gpu.py``'s sampler, also reading each compute process's GPU memory."""
    from gpu import GpuSampler

    class GpuWatch(GpuSampler):
        def __init__(self) -> None:
            super().__init__(interval)
            self.per_process_mb = 0.0
            self.most_processes = 0

        def sample(self) -> None:
            super().sample()  # the card: utilisation and memory in use
            try:
                apps = query_gpu(["--query-compute-apps=used_memory"])
            except (OSError, subprocess.SubprocessError):
                return
            if apps:
                self.most_processes = max(self.most_processes, len(apps))
                self.per_process_mb = max(self.per_process_mb, *(a[0] for a in apps))

    return GpuWatch()


def query_gpu(what: list[str]) -> list[list[float]]:
    done = subprocess.run(
        ["nvidia-smi", *what, "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    rows = []
    for line in done.stdout.splitlines():
        try:
            rows.append([float(x) for x in line.split(",")])
        except ValueError:
            continue
    return rows


def idle_gpu_mb() -> float:
    try:
        rows = query_gpu(["--query-gpu=memory.used"])
    except (OSError, subprocess.SubprocessError):
        return 0.0
    return rows[0][0] if rows else 0.0


def sharing(report: Report, sizes: list[int], work: Path, budget: float) -> None:
    import nbformat
    from benchlib import median
    from measured import run_measured

    rows, data, previous, last = [], [], None, None
    stops = None
    for n in sizes:
        left = budget - report.elapsed()
        if last is not None:
            estimate = last[1] * max(1.0, n / last[0]) * 0.75 + 15
            if estimate > left:
                report.say(f"gpu_proof: sharing N={n} skipped: {estimate:.0f} s, {left:.0f} left")
                rows.append([str(n), "skipped: budget"])
                report.section("sharing", sharing_text(rows, stops))
                continue
        subs = work / f"share-{n}"
        shutil.rmtree(subs, ignore_errors=True)
        subs.mkdir(parents=True)
        for index in range(n):
            nb = nbformat.read(LENET5_ALICE, as_version=4)
            nb.cells.append(nbformat.v4.new_markdown_cell(f"Submitted by student {index:02d}."))
            nbformat.write(nb, subs / f"student{index:02d}.ipynb")
        out = work / f"share-out-{n}"
        argv = [sys.executable, "-c", "from grader.cli import run; run()", "batch", str(subs)]
        argv += ["-a", "lenet5", "--course", str(ROOT), "-o", str(out), "--workers", str(n)]
        report.say(f"gpu_proof: sharing: {n} lenet5 submissions at once")
        idle = idle_gpu_mb()
        limit = f"{report.allowance(400):.0f}"
        with gpu_watch() as watch:
            run = run_measured(["timeout", "-k", "10", limit, *argv], cwd=ROOT)
        report.log(run.output)
        if run.returncode != 0:
            report.fail(f"sharing N={n}: grader batch exited {run.returncode}")
        graded = len(list(out.glob("*/results.json")))
        throughput = graded / run.wall_s * 60
        grows = previous is None or throughput > previous * 1.05
        if not grows and stops is None:
            stops = n
        previous, last = throughput, (n, run.wall_s)
        # Per kernel: nvidia-smi's per-process figure when it can see the processes (not
        # always in a container), else the card's growth over idle shared out.
        per_kernel = watch.per_process_mb or max(watch.peak_mb - idle, 0.0) / n
        source = "process" if watch.per_process_mb else "card / N"
        kernels = run.kernel_peaks_mb
        row = [
            str(n),
            f"{run.wall_s:.1f}",
            f"{graded}",
            f"{throughput:.1f}",
            "yes" if grows else "**no**",
            f"{watch.peak_mb:.0f} (idle {idle:.0f})",
            f"{per_kernel:.0f} ({source})",
            f"{median(watch.utilisation):.0f}" if watch.utilisation else "-",
            f"{max(kernels):.0f}" if kernels else "-",
        ]
        rows.append(row)
        data.append(dict(zip(SHARING_HEADER, row, strict=False)))
        report.data["sharing"] = data
        report.section("sharing", sharing_text(rows, stops))


SHARING_HEADER = [
    "N at once",
    "wall s",
    "graded",
    "per minute",
    "still growing",
    "GPU memory MB",
    "GPU MB per kernel",
    "GPU util %",
    "kernel RSS peak MB",
]


def sharing_text(rows: list[list[str]], stops: int | None) -> str:
    from benchlib import table

    where = (
        f"Throughput stops growing at N = {stops} (less than 5% over the N before)."
        if stops
        else "Throughput grew at every N measured."
    )
    rows = [r + [""] * (len(SHARING_HEADER) - len(r)) for r in rows]
    return "\n".join(
        [
            "### One GPU shared by N lenet5 gradings at once",
            "",
            "N copies of lenet5's `alice_correct` graded by `grader batch --workers N`, every "
            "kernel on the same GPU. Throughput in submissions per minute; GPU memory from "
            "`nvidia-smi` (card peak; per kernel from its compute-process list, or the card's "
            "growth over idle divided by N where it lists none); kernel RSS as in the batch "
            "table.",
            "",
            table(SHARING_HEADER, rows),
            "",
            where,
        ]
    )
