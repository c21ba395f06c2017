"""Export downloads: any ``grader export`` format, written by :mod:`grader.exports`.

Exports are written to a temporary folder exactly as the command writes them, then
sent as the one file, or as a zip of the folder for per-student formats and the
Gradescope autograder scripts. A roster, where a format needs one, is uploaded with
the form.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.exports import (
    FORMATS,
    ExportError,
    ExportOptions,
    gradebook_grades,
    with_roster,
    write_export,
)
from grader.exports.gradescope import write_autograder
from grader.serve.context import ServeContext


@dataclass(frozen=True)
class Download:
    filename: str
    media_type: str
    body: bytes
    notes: list[str]


def export(
    ctx: ServeContext,
    format_name: str,
    roster: bytes | None = None,
    pending: str = "omit",
    released: bool = False,
) -> Download:
    """The export ``format_name`` of the class; ExportError as the command would say."""
    fmt = FORMATS.get(format_name)
    if fmt is None:
        raise ExportError(f"unknown format {format_name!r}: one of {', '.join(FORMATS)}")
    with tempfile.TemporaryDirectory(prefix="dlgrader-export-") as folder:
        base = Path(folder)
        if fmt.layout == "autograder":
            write_autograder(ctx.name, base / "autograder")
            return Download(f"{ctx.name}-{fmt.name}.zip", "application/zip", _zip(base), [])
        grades = gradebook_grades(ctx.gradebook, ctx.name, "latest")
        roster_path = None
        if roster:
            roster_path = base / "roster.csv"
            roster_path.write_bytes(roster)
            grades, _ = with_roster(grades, roster_path)
        elif fmt.needs_roster:
            raise ExportError(f"{fmt.name} needs a roster (the class list with its ids)")
        options = ExportOptions(
            released=released,
            roster_given=roster_path is not None,
            roster_path=roster_path,
            pending="partial" if pending == "partial" and fmt.grade_table else "omit",
        )
        if fmt.layout == "per_student":
            target = base / "export" / fmt.name
            written = write_export(fmt, grades, target, options)
            return Download(
                f"{ctx.name}-{fmt.name}.zip", "application/zip", _zip(target), written.notes
            )
        target = base / "export" / f"{ctx.name}-{fmt.name}{fmt.suffix}"
        written = write_export(fmt, grades, target, options)
        media = {".csv": "text/csv", ".xml": "application/xml"}.get(fmt.suffix, "text/plain")
        return Download(target.name, media, target.read_bytes(), written.notes)


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name != "roster.csv":
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def formats() -> list[tuple[str, str, bool]]:
    """(name, summary, needs a roster) of every format, for the page."""
    return [(f.name, f.summary, f.needs_roster) for f in FORMATS.values()]
