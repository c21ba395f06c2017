"""What deterministic numerics cost: LeNet-5 training steps under each kernel setting.

Runs the same seeded LeNet-5 training (PyTorch, batches of 32) in a fresh process with
the environment a kernel gets from ``grader.numerics`` for each setting: AVX2 or the
CPU's native instruction set, one thread or two. Settings alternate across repeats, so a
busy moment of the machine does not fall on one setting only. Prints the median seconds
and the final loss (equal losses across settings of the same ISA and threads show the
pinning holds); ``--write`` puts the table in docs/calibration.md.

    python bench/numerics_cost.py --steps 300 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from benchlib import ROOT, machine, write_section

from grader.config import Numerics
from grader.numerics import kernel_variables

CALIBRATION = ROOT / "docs" / "calibration.md"
TRAIN = """
import json, time, torch
from torch import nn
torch.manual_seed(0)
torch.set_num_threads(int(__import__("os").environ["OMP_NUM_THREADS"]))
net = nn.Sequential(
    nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
    nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
    nn.ReLU(), nn.Linear(84, 10),
)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
x, y = torch.rand(512, 3, 32, 32), torch.randint(0, 10, (512,))
start = time.perf_counter()
for step in range({steps}):
    i = (step * 32) % 512
    opt.zero_grad()
    loss = nn.functional.cross_entropy(net(x[i:i + 32]), y[i:i + 32])
    loss.backward()
    opt.step()
print(json.dumps({{"seconds": time.perf_counter() - start, "loss": loss.item(),
                   "capability": torch.backends.cpu.get_cpu_capability()}}))
"""


def run(numerics: Numerics, steps: int) -> dict:
    # isa "native" pins no instruction-set variable: each library picks its own.
    env = {**os.environ, **kernel_variables(numerics)}
    code = TRAIN.format(steps=steps)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    settings = [
        Numerics(isa=isa, threads=threads) for isa in ("avx2", "native") for threads in (1, 2)
    ]
    measured: dict[tuple[str, int], list[dict]] = {(s.isa, s.threads): [] for s in settings}
    for _ in range(args.repeat):
        for setting in settings:
            measured[(setting.isa, setting.threads)].append(run(setting, args.steps))
    rows = [
        "| instruction set | threads | torch capability | median s | final loss |",
        "|---|---|---|---|---|",
    ]
    for (isa, threads), runs in measured.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        losses = sorted({f"{r['loss']:.9f}" for r in runs})
        rows.append(
            f"| {isa} | {threads} | {runs[0]['capability']} | {seconds:.2f} | {', '.join(losses)} |"
        )
    report = (
        f"**Machine:** {machine()}. {args.steps} LeNet-5 training steps (batch 32, Adam), "
        f"median of {args.repeat}.\n\n" + "\n".join(rows)
    )
    print(report)
    if args.write:
        write_section("numerics-cost", report, CALIBRATION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
