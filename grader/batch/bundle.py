"""An assignment's grading bundle: what a worker on another machine needs, as bytes.

A Dask worker may share no filesystem with the instructor's machine (Kubernetes, cloud
VMs, SLURM without a shared home). So a task carries the notebook's bytes, and the
assignment's grading files (its folder with tests, hidden ones included, and data; its
rubric; the course's dlgrader.yaml and report templates) travel as one tar, once per
worker, named by its content hash. Workers are trusted: they grade. Students never see
a bundle.

The worker unpacks a bundle once into a cache folder named by the hash and grades from
there; the same hash is the same content, so a second batch reuses it.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.course import COURSE_FILE, Assignment

#: Where workers keep unpacked bundles (one folder per content hash).
CACHE_ENV = "DLGRADER_BUNDLE_CACHE"


@dataclass(frozen=True)
class Bundle:
    sha256: str
    data: bytes


def make_bundle(assignment: Assignment) -> Bundle:
    """The assignment's grading files as a deterministic tar (sorted names, no times)."""
    course = assignment.course
    members: list[tuple[str, Path]] = []
    if (course.root / COURSE_FILE).is_file():
        members.append((COURSE_FILE, course.root / COURSE_FILE))
    members += _tree(assignment.folder, f"{course.config.assignments}/{assignment.name}")
    rubric = course.rubrics_dir / f"{assignment.name}.yaml"
    members.append((f"{course.config.rubrics}/{assignment.name}.yaml", rubric))
    if course.templates_dir is not None:
        members += _tree(course.templates_dir, course.templates_dir.relative_to(course.root))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for name, path in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = path.stat().st_size, 0, 0o644
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    data = buffer.getvalue()
    return Bundle(hashlib.sha256(data).hexdigest(), data)


def _tree(folder: Path, prefix: str | Path) -> list[tuple[str, Path]]:
    skip = ("__pycache__", ".ipynb_checkpoints")
    return [
        (f"{Path(prefix).as_posix()}/{p.relative_to(folder).as_posix()}", p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part in skip for part in p.parts)
    ]


def materialise(sha256: str, data: bytes) -> Path:
    """The bundle unpacked in this worker's cache (done once per hash); its course root."""
    cache = Path(os.environ.get(CACHE_ENV) or Path(tempfile.gettempdir()) / "dlgrader-bundles")
    target = cache / sha256
    if target.is_dir():
        return target
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"the grading bundle does not match its hash {sha256[:12]}")
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{sha256[:12]}-", dir=cache))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(staging, filter="data")  # our own tar; the filter still refuses links
        (staging / "solutions").mkdir(exist_ok=True)
        staging.rename(target)
    except OSError:
        if not target.is_dir():  # another task of this worker unpacked it first
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
