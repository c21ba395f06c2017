"""Give each concurrent kernel a GPU of its own, across the processes of a batch.

Batch workers are separate processes, so a lock in memory cannot share out devices;
a lock *file* per GPU can. A session takes the first GPU whose lock is free and holds
it until it ends (the lock goes with the process if it dies). When every GPU is taken,
the session shares the one its process id picks: several small lab notebooks fit on
one GPU, and ``docs/benchmarks.md`` records how many share one well.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_DIR = Path(os.environ.get("DLGRADER_GPU_LOCKS", "/tmp/dlgrader-gpu-locks"))


def host_gpus() -> list[str]:
    """Indices of the NVIDIA GPUs this host shows as device files (``/dev/nvidia0``...)."""
    indices = [p.name[6:] for p in Path("/dev").glob("nvidia*") if p.name[6:].isdigit()]
    return sorted(indices, key=int)


@contextmanager
def gpu_slot(gpus: list[str]) -> Iterator[str | None]:
    """Yield the index of the GPU this session uses (``None`` when there are none)."""
    if not gpus:
        yield None
        return
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    for index in gpus:
        handle = open(LOCK_DIR / f"gpu{index}.lock", "w")  # noqa: SIM115 - held while in use
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        try:
            yield index
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        return
    yield gpus[os.getpid() % len(gpus)]
