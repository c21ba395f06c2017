"""Which notebook belongs to which student: files, folders, zips and a roster.

A batch is a folder (or a zip of one) holding either one notebook per student
(``alice.ipynb``, or ``lab3_s1234.ipynb`` with a pattern that picks out ``s1234``) or one
folder per student with the notebook inside. A roster CSV, when given, is the list of
students the ids must come from. Every problem names the file and what to do.
"""

from __future__ import annotations

import csv
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.batch import archives
from grader.errors import GraderError

#: The default student id: the whole file (or folder) name without its extension.
DEFAULT_PATTERN = r"(?P<id>.+)"
MAX_UNZIPPED_BYTES = 4 * 1024**3
ROSTER_ID_COLUMNS = ("id", "student_id", "ID", "SIS User ID", "username", "email")


class BatchInputError(GraderError):
    """The submissions folder, zip, pattern or roster is wrong; nothing was graded."""

    exit_code = 2


@dataclass(frozen=True)
class StudentSubmission:
    """One row of the batch: a notebook to grade, or a file that cannot be graded.

    ``problem`` is the one-line reason a file is not gradable (not a notebook, an archive
    that cannot be unpacked safely); ``notes`` say what unpacking an archive left out.
    """

    student: str
    path: Path
    sha256: str
    problem: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Roster:
    """Students of the class, by id, with the other columns of the roster CSV."""

    path: Path
    rows: dict[str, dict[str, str]]

    @classmethod
    def read(cls, path: Path) -> Roster:
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                fields = reader.fieldnames or []
                column = next((c for c in ROSTER_ID_COLUMNS if c in fields), None)
                if column is None:
                    raise BatchInputError(
                        f"{path}: no student id column; name one of "
                        f"{', '.join(ROSTER_ID_COLUMNS)} in the header row (found: "
                        f"{', '.join(fields) or 'nothing'})"
                    )
                rows: dict[str, dict[str, str]] = {}
                for number, row in enumerate(reader, start=2):
                    student = (row.get(column) or "").strip()
                    if not student and "Points Possible" in row.values():
                        continue  # the second row of a Canvas gradebook export
                    if not student:
                        raise BatchInputError(f"{path}, line {number}: the {column} is empty")
                    if student in rows:
                        raise BatchInputError(
                            f"{path}, line {number}: student id {student!r} appears twice"
                        )
                    rows[student] = {k: (v or "").strip() for k, v in row.items() if k}
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise BatchInputError(f"{path}: cannot read the roster ({exc})") from None
        return cls(path=path, rows=rows)


def discover(
    source: Path, workdir: Path, pattern: str = DEFAULT_PATTERN, roster: Roster | None = None
) -> list[StudentSubmission]:
    """The submissions in ``source`` (a folder or a zip), sorted by student id."""
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise BatchInputError(f"--pattern {pattern!r} is not a regular expression: {exc}") from None
    if "id" not in regex.groupindex:
        raise BatchInputError(f"--pattern {pattern!r} needs a group named id: (?P<id>...)")
    if source.is_file() and zipfile.is_zipfile(source):
        source = extract_zip(source, workdir / "unzipped")
    if not source.is_dir():
        raise BatchInputError(f"{source}: not a folder or zip of submissions")
    found: dict[str, list[StudentSubmission]] = {}
    for entry in sorted(source.iterdir()):
        if entry.name.startswith((".", "__MACOSX")):
            continue
        match = regex.search(_stem(entry))
        if not match or not match.group("id"):
            raise BatchInputError(
                f"{entry}: the name does not match --pattern {pattern!r}; rename the file "
                "or change the pattern"
            )
        student = match.group("id")
        found.setdefault(student, []).append(_submission(student, entry, workdir / "archives"))
    if not any(row.problem is None for rows in found.values() for row in rows):
        raise BatchInputError(f"{source}: no .ipynb files, and no folders holding one")
    twice = {s: rows for s, rows in found.items() if len(rows) > 1}
    if twice:
        student, rows = next(iter(twice.items()))
        names = ", ".join(r.path.name for r in rows)
        raise BatchInputError(
            f"{len(twice)} student id(s) have several submissions, e.g. {student!r}: {names}; "
            "keep one per student or set --pattern"
        )
    if roster is not None:
        unknown = sorted(set(found) - set(roster.rows))
        if unknown:
            raise BatchInputError(
                f"{len(unknown)} submission(s) from students not in {roster.path}: "
                f"{', '.join(unknown[:5])}; fix the names or the roster"
            )
    return [rows[0] for _, rows in sorted(found.items())]


def _stem(entry: Path) -> str:
    """The name the student id is read from: without ``.ipynb`` or an archive's endings."""
    if entry.is_dir():
        return entry.name
    lower = entry.name.lower()
    for suffix in (".ipynb", *archives.ARCHIVE_SUFFIXES):
        if lower.endswith(suffix):
            return entry.name[: -len(suffix)]
    return entry.stem


def _submission(student: str, entry: Path, unpacked: Path) -> StudentSubmission:
    """The row for one entry of the class folder: every entry gets one."""
    if entry.is_dir():
        notebook = _notebook_in(entry)
        if notebook is None:
            return _not_gradable(student, entry, "the folder holds no .ipynb notebook")
        return StudentSubmission(student, notebook, _sha256(notebook))
    if entry.suffix == ".ipynb":
        return StudentSubmission(student, entry, _sha256(entry))
    if archives.is_archive(entry):
        return _from_archive(student, entry, unpacked / _safe(student))
    kind = f"a {entry.suffix} file" if entry.suffix else "a file without an extension"
    return _not_gradable(student, entry, f"not a notebook ({kind}): hand in the .ipynb file")


def _from_archive(student: str, archive: Path, target: Path) -> StudentSubmission:
    try:
        unpacked = archives.unpack(archive, target)
    except archives.UnsafeArchive as exc:
        return _not_gradable(student, archive, str(exc))
    notes = tuple(f"{archive.name}: skipped {member}" for member in unpacked.skipped)
    if len(unpacked.notebooks) != 1:
        names = ", ".join(p.name for p in unpacked.notebooks[:3])
        why = (
            f"holds {len(unpacked.notebooks)} notebooks ({names})" if names else "holds no notebook"
        )
        return _not_gradable(student, archive, f"the archive {why}: hand in one .ipynb file")
    notebook = unpacked.notebooks[0]
    return StudentSubmission(student, notebook, _sha256(notebook), notes=notes)


def _not_gradable(student: str, path: Path, reason: str) -> StudentSubmission:
    return StudentSubmission(student, path, _sha256(path) if path.is_file() else "", reason)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:80] or "_"


def _notebook_in(folder: Path) -> Path | None:
    notebooks = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if len(notebooks) > 1:
        raise BatchInputError(
            f"{folder}: {len(notebooks)} notebooks ({', '.join(p.name for p in notebooks[:3])}); "
            "leave one per student folder"
        )
    return notebooks[0] if notebooks else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def extract_zip(archive: Path, target: Path) -> Path:
    """Unpack a zip with checks: no absolute or climbing names, no links, bounded size."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            total = sum(m.file_size for m in members)
            if total > MAX_UNZIPPED_BYTES:
                raise BatchInputError(
                    f"{archive}: unpacks to {total / 1024**3:.1f} GiB; the limit is "
                    f"{MAX_UNZIPPED_BYTES / 1024**3:.0f} GiB"
                )
            for member in members:
                name = PurePosixPath(member.filename)
                if name.is_absolute() or ".." in name.parts or "\\" in member.filename:
                    raise BatchInputError(
                        f"{archive}: entry {member.filename!r} points outside the folder; "
                        "the zip was not unpacked"
                    )
                if (member.external_attr >> 16) & 0o170000 == 0o120000:
                    raise BatchInputError(f"{archive}: entry {member.filename!r} is a link")
            zipped.extractall(target)
    except zipfile.BadZipFile as exc:
        raise BatchInputError(f"{archive}: not a readable zip ({exc})") from None
    entries = [p for p in target.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]  # a zip of the folder itself
    return target
