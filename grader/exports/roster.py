"""The roster for an export: who the graded students are on the platform.

A gradebook knows students by the id in their file names; a platform knows them by its
own ids (Canvas user id, SIS ids, Moodle email or idnumber). The roster CSV joins the
two. It is read like ``grader batch --roster`` reads it (same id columns, same errors),
and a Canvas gradebook export works as a roster too: its "Points Possible" row is
skipped. A student is found by the roster's id column first, then by any other id
column (so a Canvas export keyed by Canvas ID still finds ``jdoe`` by SIS Login ID).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path

from grader.batch.submissions import ROSTER_ID_COLUMNS, Roster
from grader.exports.common import ExportError, StudentGrade

#: Other columns that may hold the id a submission was named by.
OTHER_ID_COLUMNS = ("SIS Login ID", "sis_login_id", "login_id", "idnumber", "Email")


def read_roster(path: Path) -> Roster:
    """The roster at ``path``, keyed by its first id column (see ``ROSTER_ID_COLUMNS``)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ExportError(f"{path}: cannot read the roster ({exc})") from None
    if not lines:
        raise ExportError(f"{path}: the roster is empty; it needs a header row")
    header = [name.strip() for name in lines[0]]
    key = next((c for c in ROSTER_ID_COLUMNS if c in header), None)
    if key is None:
        raise ExportError(
            f"{path}: no student id column; name one of {', '.join(ROSTER_ID_COLUMNS)} in the "
            f"header row (found: {', '.join(header) or 'nothing'})"
        )
    rows: dict[str, dict[str, str]] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not any(value.strip() for value in line) or _canvas_metadata(line):
            continue
        row = {name: value.strip() for name, value in zip(header, line, strict=False) if name}
        student = row.get(key, "")
        if not student:
            raise ExportError(f"{path}, line {number}: the {key} is empty")
        if student in rows:
            raise ExportError(f"{path}, line {number}: student id {student!r} appears twice")
        rows[student] = row
    return Roster(path=path, rows=rows)


def _canvas_metadata(line: list[str]) -> bool:
    """Canvas exports carry a "Points Possible" row under the header; it is no student."""
    return bool(line) and "Points Possible" in line[0]


def join_roster(grades: list[StudentGrade], roster: Roster) -> list[StudentGrade]:
    """The grades with each student's roster row; a student not in the roster is an error."""
    index = _Index(roster)
    joined, unknown = [], []
    for grade in grades:
        row = index.find(grade.student)
        if row is None:
            unknown.append(grade.student)
        else:
            joined.append(StudentGrade(grade.student, grade.result, row))
    if unknown:
        raise ExportError(
            f"{len(unknown)} graded student(s) are not in the roster {roster.path}: "
            f"{', '.join(unknown[:5])}{', …' if len(unknown) > 5 else ''}; add them to the "
            "roster or fix their ids"
        )
    return joined


class _Index:
    """Roster rows by their key, then by each other id column present."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self.by_column: dict[str, dict[str, list[str]]] = {}
        columns = [c for c in (*ROSTER_ID_COLUMNS, *OTHER_ID_COLUMNS) if c]
        for key, row in roster.rows.items():
            for column in columns:
                value = row.get(column, "")
                if value:
                    self.by_column.setdefault(column, {}).setdefault(value, []).append(key)

    def find(self, student: str) -> Mapping[str, str] | None:
        if student in self.roster.rows:
            return self.roster.rows[student]
        keys = {k for values in self.by_column.values() for k in values.get(student, [])}
        if len(keys) > 1:
            raise ExportError(
                f"{self.roster.path}: student id {student!r} matches {len(keys)} roster rows "
                f"({', '.join(sorted(keys)[:3])}); make the ids unique"
            )
        return self.roster.rows[keys.pop()] if keys else None


def column(row: Mapping[str, str], names: Iterable[str]) -> str | None:
    """The value of the first of ``names`` (case and spacing ignored) the roster row has."""
    name = column_name(row.keys(), names)
    return row[name] if name is not None else None


def column_name(header: Iterable[str], names: Iterable[str]) -> str | None:
    """The header's spelling of the first of ``names`` it has (case and spacing ignored)."""
    present = {_simple(h): h for h in header}
    for name in names:
        if _simple(name) in present:
            return present[_simple(name)]
    return None


def _simple(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def ensure_unique(values: Iterable[tuple[str, str]], what: str, path: Path | None) -> None:
    """Two students with the same platform id would overwrite each other's grade."""
    seen: dict[str, str] = {}
    for student, value in values:
        if value in seen:
            raise ExportError(
                f"{path or 'the roster'}: {seen[value]!r} and {student!r} have the same "
                f"{what} {value!r}; each student needs their own"
            )
        seen[value] = student
