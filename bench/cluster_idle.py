"""What Dask's housekeeping costs: CPU seconds per second of an idle local cluster.

    python bench/cluster_idle.py [--workers 2] [--seconds 20] [--write]

Starts the cluster ``grader batch`` starts (``grader.batch.dispatch.Dispatcher``), waits
for it to settle, then reads the CPU time of this process (client, scheduler, nannies)
and of every worker process over ``--seconds`` of doing nothing. Once with Dask's
defaults, once with ``QUIET_DASK``, and once per setting of it alone, each in a fresh
interpreter (Dask reads its configuration at import). Idle cost is what every second of
a batch pays on top of grading: on two cores it is taken from the kernels.

Prints markdown; ``--write`` puts it in docs/benchmarks.md (section ``cluster-idle``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from benchlib import load, machine, table, write_section

PROBE = """
import json, sys, time
import dask, psutil
settings = json.loads(sys.argv[1])
from grader.batch import dispatch
dispatch.QUIET_DASK = settings
d = dispatch.Dispatcher(int(sys.argv[2]))
time.sleep(3)
me = psutil.Process()
def used():
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            t = p.cpu_times(); total += t.user + t.system
        except psutil.Error:
            pass
    return total
start = used(); time.sleep(float(sys.argv[3])); spent = used() - start
d.close()
print(json.dumps(spent / float(sys.argv[3])))
"""


def idle_cost(settings: dict, workers: int, seconds: float) -> float:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(settings), str(workers), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> int:
    from grader.batch.dispatch import QUIET_DASK

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    variants = {
        "Dask's defaults (profiler off, as before)": {"distributed.worker.profile.enabled": False}
    }
    variants["QUIET_DASK (all of it)"] = QUIET_DASK
    for key, value in QUIET_DASK.items():
        if key != "distributed.worker.profile.enabled":
            variants[f"only `{key}: {value}`"] = {
                "distributed.worker.profile.enabled": False,
                key: value,
            }
    rows = []
    for name, settings in variants.items():
        started = time.monotonic()
        cost = idle_cost(settings, args.workers, args.seconds)
        print(f"{name}: {cost:.4f} CPU s/s ({time.monotonic() - started:.0f} s)", file=sys.stderr)
        rows.append([name, f"{cost:.3f}", f"{cost * 30 / 10:.2f}"])
    report = (
        f"`python bench/cluster_idle.py --workers {args.workers} --seconds {args.seconds:g}` "
        f"on {machine()}, load average {load()} (other jobs ran). CPU seconds per second "
        f"used by an idle local cluster of {args.workers} workers (client, scheduler, "
        "nannies and workers together); the last column is what that adds per submission "
        "to a 30-second batch of 10.\n\n"
        + table(["settings", "idle CPU s per s", "CPU s per submission, 10 in 30 s"], rows)
    )
    print(report)
    if args.write:
        write_section("cluster-idle", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
