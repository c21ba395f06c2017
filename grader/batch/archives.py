"""Unpack one student's archive safely, to find the notebook inside.

A student hands in ``alice.zip`` or ``alice.tar.gz`` instead of the notebook. The archive
is hostile until shown otherwise: names that climb out (``../../x``), absolute names,
links, devices, setuid bits, a zip bomb whose headers lie about its sizes. So:

* a member that is unsafe by itself (a link, a device, a name outside the folder) is
  skipped, and named in the report;
* the archive's totals (bytes written, members, expansion ratio) are enforced while the
  bytes stream out, not from the headers; past a limit the archive is not gradable;
* nothing is written outside ``target``, and files get plain 0o644 permissions.
"""

from __future__ import annotations

import shutil
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

#: Endings read as archives; anything else that is not a notebook is not gradable.
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
MAX_MEMBERS = 2_000
MAX_BYTES = 256 * 1024**2
#: Bytes out per byte in: real notebooks compress 3-10x; bombs, thousands of times.
MAX_RATIO = 100
CHUNK = 1 << 16


class UnsafeArchive(Exception):
    """The archive cannot be unpacked safely; the message is the row's one-line reason."""


@dataclass
class Unpacked:
    """What came out: the notebooks found, and the members skipped with why."""

    notebooks: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass
class _Member:
    name: str
    kind: str  # "file", "dir", or why it is refused ("a link", "a device")
    opener: object = None


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def unpack(archive: Path, target: Path) -> Unpacked:
    """Unpack ``archive`` into ``target`` (created) with the checks above."""
    target.mkdir(parents=True, exist_ok=True)
    compressed = max(1, archive.stat().st_size)
    result = Unpacked()
    written = members = 0
    try:
        for member in _members(archive):
            members += 1
            if members > MAX_MEMBERS:
                raise UnsafeArchive(f"more than {MAX_MEMBERS:,} entries")
            problem = _unsafe_name(member.name) or (
                None if member.kind in ("file", "dir") else member.kind
            )
            if problem:
                result.skipped.append(f"{member.name[:200]} ({problem})")
                continue
            destination = target.joinpath(*PurePosixPath(member.name).parts)
            if member.kind == "dir":
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with member.opener() as source, destination.open("wb") as sink:  # type: ignore[operator]
                written = _copy(source, sink, written, compressed)
            destination.chmod(0o644)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise UnsafeArchive(f"cannot be unpacked ({type(exc).__name__}: {exc})") from None
    except UnsafeArchive:
        shutil.rmtree(target, ignore_errors=True)
        raise
    result.notebooks = sorted(
        p for p in target.rglob("*.ipynb") if p.is_file() and ".ipynb_checkpoints" not in p.parts
    )
    return result


def _copy(source: IO[bytes], sink: IO[bytes], written: int, compressed: int) -> int:
    """Stream one member, counting what is really written against the archive's limits."""
    for block in iter(lambda: source.read(CHUNK), b""):
        written += len(block)
        if written > MAX_BYTES:
            raise UnsafeArchive(f"unpacks to more than {MAX_BYTES // 1024**2} MiB")
        if written > MAX_RATIO * compressed and written > 10 * 1024**2:
            raise UnsafeArchive(
                f"expands more than {MAX_RATIO} times (a compression bomb); not unpacked"
            )
        sink.write(block)
    return written


def _unsafe_name(name: str) -> str | None:
    path = PurePosixPath(name)
    if not name or "\\" in name or "\x00" in name:
        return "an unusual name"
    if path.is_absolute() or ".." in path.parts:
        return "a name outside the folder"
    return None


def _members(archive: Path) -> Iterator[_Member]:
    if zipfile.is_zipfile(archive):
        yield from _zip_members(archive)
    elif tarfile.is_tarfile(archive):
        yield from _tar_members(archive)
    else:
        raise UnsafeArchive("not a zip or tar archive that can be read")


def _zip_members(archive: Path) -> Iterator[_Member]:
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                kind = "a link"
            elif mode & (stat.S_ISUID | stat.S_ISGID):
                kind = "a setuid or setgid file"
            else:
                kind = "dir" if info.is_dir() else "file"
            yield _Member(info.filename, kind, lambda info=info: zipped.open(info))


def _tar_members(archive: Path) -> Iterator[_Member]:
    with tarfile.open(archive, mode="r:*") as tarred:
        for info in tarred:  # streams: the headers are read as the members are reached
            if info.issym() or info.islnk():
                kind = "a link"
            elif info.isdev() or info.isfifo():
                kind = "a device or pipe"
            elif info.mode & (stat.S_ISUID | stat.S_ISGID):
                kind = "a setuid or setgid file"
            elif info.isdir():
                kind = "dir"
            elif info.isfile():
                kind = "file"
            else:
                kind = "an unusual entry"
            yield _Member(info.name, kind, lambda info=info: tarred.extractfile(info))
