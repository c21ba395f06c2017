"""The kernel cgroup: it limits processes, reports the breach, and reaps everything.

Skipped where this machine offers no writable cgroup (the runner then warns in every
result); where it does, real processes are started inside one.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from grader.runners.cgroups import KernelCgroup
from grader.runners.local import cgroups_writable

pytestmark = pytest.mark.skipif(not cgroups_writable(), reason="no writable cgroup here")


def test_process_limit_is_enforced_and_reported():
    group = KernelCgroup.create(256 * 1024 * 1024, pids_max=8)
    assert group is not None
    try:
        script = "for i in $(seq 30); do sleep 30 & done 2>/dev/null; sleep 0.2"
        subprocess.run([*group.enter_argv(), "sh", "-c", script], timeout=20, check=False)
        assert group.breaches() == ["process limit"]
        assert 0 < len(group.pids()) <= 8
    finally:
        group.remove()
    assert not group.pids_dir.exists()


def test_remove_reaps_daemons_that_left_their_session():
    group = KernelCgroup.create(256 * 1024 * 1024, pids_max=64)
    assert group is not None
    daemon = "setsid sh -c 'sleep 300' < /dev/null > /dev/null 2>&1 &"
    subprocess.run([*group.enter_argv(), "sh", "-c", daemon], timeout=10, check=True)
    time.sleep(0.2)
    members = group.pids()
    assert members, "the daemon runs inside the cgroup though its parent has exited"
    group.remove()
    assert not [pid for pid in members if running(pid)]


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan waits for init to collect it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
