"""Every file in a class folder gets a row; a student's archive is unpacked safely (issue 19).

Unit tests build hostile archives byte by byte (traversal, links, devices, setuid, a bomb)
and check what comes out, and that nothing lands outside the extraction folder. The batch
test grades such a class for real and counts files in against rows out.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader.batch import archives
from grader.batch.submissions import discover

TOY = Path(__file__).parent / "fixtures" / "toy_course"
SOLUTION = (TOY / "solutions" / "toy.ipynb").read_text()


def zip_with(path: Path, members: dict[str, bytes], modes: dict[str, int] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (modes or {}).get(name, 0o100644) << 16
            archive.writestr(info, data)
    return path


def hostile_tar(path: Path) -> Path:
    """A tar.gz with the notebook, a symlink, a hard link, a device, a setuid file."""
    with tarfile.open(path, "w:gz") as archive:

        def add(name: str, kind: bytes, data: bytes = b"", **extra) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.size = kind, len(data)
            for key, value in extra.items():
                setattr(info, key, value)
            archive.addfile(info, io.BytesIO(data) if data else None)

        add("work/bob.ipynb", tarfile.REGTYPE, SOLUTION.encode())
        add("work/passwd", tarfile.SYMTYPE, linkname="/etc/passwd")
        add("work/hard", tarfile.LNKTYPE, linkname="/etc/shadow")
        add("work/tty", tarfile.CHRTYPE, devmajor=5, devminor=0)
        add("work/suid", tarfile.REGTYPE, b"#!/bin/sh\n", mode=0o4755)
    return path


def bomb(path: Path) -> Path:
    """50 MB of zeros that deflate to about 50 KB: a thousand times their size."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("me.ipynb", SOLUTION)
        archive.writestr("padding.bin", bytes(50 * 1024**2))
    return path


def test_a_climbing_name_is_skipped_and_named_the_notebook_kept(tmp_path):
    archive = zip_with(
        tmp_path / "alice.zip", {"../../escaped.txt": b"x", "alice/lab.ipynb": b"{}"}
    )
    unpacked = archives.unpack(archive, tmp_path / "out")
    assert [p.name for p in unpacked.notebooks] == ["lab.ipynb"]
    assert unpacked.skipped == ["../../escaped.txt (a name outside the folder)"]
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert not list(tmp_path.rglob("escaped.txt"))


def test_links_devices_and_setuid_never_come_out(tmp_path):
    unpacked = archives.unpack(hostile_tar(tmp_path / "bob.tar.gz"), tmp_path / "out")
    assert [p.name for p in unpacked.notebooks] == ["bob.ipynb"]
    kinds = " ".join(unpacked.skipped)
    assert kinds.count("a link") == 2 and "a device" in kinds and "setuid" in kinds
    made = {p.name for p in (tmp_path / "out").rglob("*")}
    assert made == {"work", "bob.ipynb"}
    assert all(not p.is_symlink() for p in (tmp_path / "out").rglob("*"))


def test_a_bomb_is_stopped_while_streaming_and_leaves_nothing(tmp_path):
    with pytest.raises(archives.UnsafeArchive, match="compression bomb"):
        archives.unpack(bomb(tmp_path / "carol.zip"), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_zip_links_and_setuid_bits_are_skipped(tmp_path):
    archive = zip_with(
        tmp_path / "dan.zip",
        {"link": b"/etc/passwd", "run.sh": b"#!/bin/sh", "dan.ipynb": b"{}"},
        modes={"link": 0o120777, "run.sh": 0o104755},
    )
    unpacked = archives.unpack(archive, tmp_path / "out")
    assert sorted(unpacked.skipped) == ["link (a link)", "run.sh (a setuid or setgid file)"]
    assert oct((tmp_path / "out" / "dan.ipynb").stat().st_mode & 0o7777) == "0o644"


def hostile_class(folder: Path) -> Path:
    folder.mkdir()
    (folder / "frank.ipynb").write_text(SOLUTION)
    zip_with(
        folder / "alice.zip", {"../../escaped.txt": b"x", "alice/lab.ipynb": SOLUTION.encode()}
    )
    hostile_tar(folder / "bob.tar.gz")
    bomb(folder / "carol.zip")
    (folder / "dave.py").write_text("def add(a, b):\n    return a + b\n")
    (folder / "erin.txt").write_text("I could not finish, sorry")
    return folder


def test_discover_gives_every_file_a_row(tmp_path):
    rows = {s.student: s for s in discover(hostile_class(tmp_path / "class"), tmp_path / "w")}
    assert sorted(rows) == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert {s for s, row in rows.items() if row.problem is None} == {"alice", "bob", "frank"}
    assert "compression bomb" in rows["carol"].problem
    assert "a .py file" in rows["dave"].problem and "a .txt file" in rows["erin"].problem
    assert any("escaped.txt" in note for note in rows["alice"].notes)


@pytest.mark.slow
def test_a_batch_of_hostile_files_has_one_row_per_file(tmp_path):
    subs = hostile_class(tmp_path / "class")
    out = tmp_path / "out"
    argv = [sys.executable, "-c", "from grader.cli import run; run()", "batch", str(subs)]
    argv += ["-a", "toy", "--course", str(TOY), "-o", str(out), "--workers", "1"]
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "6 file(s) in, one row each" in said
    assert "Traceback" not in said
    for noise in ("Warning", "DuplicateCellId", "Task exception"):
        assert noise not in said, said
    assert (out / "grader.log").is_file() and f"{out / 'grader.log'}" in " ".join(said.split())
    results = {p.parent.name: json.loads(p.read_text()) for p in sorted(out.glob("*/results.json"))}
    assert sorted(results) == ["alice", "bob", "carol", "dave", "erin", "frank"]
    for student in ("alice", "bob", "frank"):
        assert results[student]["score"]["points"] == 9, results[student]["criteria"]
        assert not results[student]["not_gradable"]
    for student in ("carol", "dave", "erin"):
        assert results[student]["not_gradable"] and results[student]["score"]["points"] == 0
    assert any("escaped.txt" in w for w in results["alice"]["warnings"])
    assert not (tmp_path / "escaped.txt").exists() and not Path("/escaped.txt").exists()
    summary = (out / "summary.html").read_text()
    assert 'id="not-gradable-count">3<' in summary
