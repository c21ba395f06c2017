"""The GPU proof's output: its report files and the log every command writes to.

Shared by bench/gpu_proof.py and its phase modules (gpu_proof_criteria.py,
gpu_proof_sharing.py); see bench/gpu_proof.py for what the proof shows.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("preflight", "pytest", "criteria", "timing", "sharing")


class Report:
    """The run's files under ``out``: markdown report, JSON numbers, log."""

    def __init__(self, out: Path, budget: float = 420) -> None:
        self.out = out
        self.budget = budget
        out.mkdir(parents=True, exist_ok=True)
        self.header: list[str] = []
        self.sections: dict[str, str] = {}
        self.data: dict[str, object] = {}
        self.failures: list[str] = []
        self.started = time.perf_counter()
        self.log_path = out / "gpu_proof.log"
        self.log_path.write_text("", encoding="utf-8")

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def allowance(self, at_most: float) -> float:
        """Seconds one command may take: what is left of the budget and a minute of grace
        (the device call stops at 600 s, the budget is 420), at least a minute."""
        return max(60.0, min(at_most, self.budget - self.elapsed() + 60))

    def log(self, text: str) -> None:
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(text.rstrip("\n") + "\n")

    def say(self, line: str) -> None:
        print(line, flush=True)
        self.log(line)

    def fail(self, what: str) -> None:
        self.failures.append(what)
        self.say(f"gpu_proof: CHECK FAILED: {what}")

    def section(self, name: str, markdown: str) -> None:
        self.sections[name] = markdown.strip()
        self.flush()

    def markdown(self) -> str:
        parts = ["## GPU proof (issue 22)", "", *self.header, ""]
        for name in PHASES:
            if name in self.sections:
                parts += [self.sections[name], ""]
        verdict = (
            "**Every check passed.**"
            if not self.failures
            else "**Checks failed:** " + "; ".join(self.failures)
        )
        parts += [verdict, f"Run took {self.elapsed():.0f} s."]
        return "\n".join(parts).strip() + "\n"

    def flush(self) -> None:
        text = self.markdown()
        (self.out / "gpu_proof.md").write_text(text, encoding="utf-8")
        (self.out / "benchmarks_gpu.md").write_text(text, encoding="utf-8")
        payload = {**self.data, "failures": self.failures, "elapsed_s": round(self.elapsed())}
        (self.out / "gpu_proof.json").write_text(
            json.dumps(payload, indent=2, default=str), encoding="utf-8"
        )


def run_logged(report: Report, argv: list[str], timeout: float, **kwargs) -> tuple[int, str]:
    """Run a command to its end (or ``timeout``), its output into the log; code and output."""
    report.log(f"$ {' '.join(argv)}")
    timeout = report.allowance(timeout)
    try:
        done = subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            **kwargs,
        )
        code, output = done.returncode, done.stdout
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        code, output = 124, (output or "") + f"\n(stopped after {timeout:.0f} s)"
    report.log(output)
    report.log(f"(exit {code})")
    return code, output
