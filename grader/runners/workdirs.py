"""Kernels' work folders (``/tmp/dlg-*``), and the reaping of ones whose grader died.

A runner removes its folder when a session ends, whatever happened. Only a grader that
is killed outright (SIGKILL, a batch worker killed with its kernel pool) leaves one
behind; its kernel dies with it (bubblewrap's ``--die-with-parent``, or the Docker
runner's container reaping), but the folder stays. Each folder names its owning process
in ``.owner``, and every new session removes the folders of owners that are gone.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "dlg-"
OWNER_FILE = ".owner"


def owner_id() -> str:
    """This process, as the owner of its folders and containers: host name and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def base_dir() -> Path | None:
    """``/tmp``: a short base path, because ipc socket paths must stay under ~100 characters."""
    return Path("/tmp") if Path("/tmp").is_dir() else None


def new_workdir() -> Path:
    """A fresh, private work folder marked with this process as its owner."""
    workdir = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base_dir()))
    (workdir / OWNER_FILE).write_text(owner_id())
    return workdir


def owner_gone(owner: str) -> bool:
    """True when ``owner`` (``host:pid``) is a process of this host that no longer exists."""
    host, _, pid = owner.strip().rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def reap_orphans() -> int:
    """Remove the work folders whose owning process is gone; return how many."""
    base = Path(base_dir() or tempfile.gettempdir())
    removed = 0
    for folder in base.glob(PREFIX + "*"):
        try:
            owner = (folder / OWNER_FILE).read_text()[:300]
        except OSError:  # no owner recorded (not ours, or still being made)
            continue
        if owner_gone(owner):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        log.info("removed %d work folders of graders that were killed", removed)
    return removed
