"""The gradebook: every graded attempt in SQLite, written the moment it is graded.

One row per (assignment, student, notebook hash). A rerun skips rows that exist, so a
batch killed half-way (even by ``kill -9``: each row is its own committed transaction,
and SQLite's journal keeps the file whole) resumes where it stopped, and a student who
submits a changed notebook gets a second attempt next to the first. Exports take each
student's latest attempt, or the best.

Marks a person gives (``grader mark``) live in their own table, one per (assignment,
student, criterion), with who gave them, when, and for which notebook; every change is
also appended to ``marks_log``. Attempts never hold them, so a regrade cannot lose
them; :meth:`Gradebook.final_results` adds them to the machine's results on read.
Gradebook files from before marks existed get the new tables when they are opened.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.marks import Mark, apply_marks
from grader.results import GradingResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    assignment TEXT NOT NULL,
    student TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    graded_at TEXT NOT NULL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    pending_points REAL NOT NULL,
    grading_error TEXT,
    flagged INTEGER NOT NULL,
    seconds REAL NOT NULL,
    results_path TEXT NOT NULL,
    results_json TEXT NOT NULL,
    UNIQUE (assignment, student, sha256)
);
CREATE TABLE IF NOT EXISTS marks (
    assignment TEXT NOT NULL,
    student TEXT NOT NULL,
    criterion TEXT NOT NULL,
    points REAL NOT NULL,
    comment TEXT NOT NULL,
    marked_by TEXT NOT NULL,
    marked_at TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (assignment, student, criterion)
);
CREATE TABLE IF NOT EXISTS marks_log (
    id INTEGER PRIMARY KEY,
    assignment TEXT NOT NULL,
    student TEXT NOT NULL,
    criterion TEXT NOT NULL,
    action TEXT NOT NULL,
    points REAL,
    comment TEXT NOT NULL,
    marked_by TEXT NOT NULL,
    marked_at TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    assignment TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (assignment, key)
);
"""
#: PRAGMA user_version: 0 attempts only (files from before marks), 1 with marks.
SCHEMA_VERSION = 1
Choice = Literal["latest", "best"]


@dataclass(frozen=True)
class Attempt:
    """One graded attempt, as stored."""

    id: int
    assignment: str
    student: str
    sha256: str
    path: str
    graded_at: str
    points: float
    max_points: float
    pending_points: float
    grading_error: str | None
    flagged: bool
    seconds: float
    results_path: str

    def result(self, gradebook: Gradebook) -> GradingResult:
        return gradebook.result(self.id)


class Gradebook:
    """An SQLite file of attempts; safe to open from one batch at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)  # autocommit: row by row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        if self._db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def graded(self, assignment: str) -> set[tuple[str, str]]:
        """(student, sha256) of every attempt already graded for ``assignment``.

        An attempt with a ``grading_error`` is left out: it holds no score (the grader or the
        machine failed, or the file could not be read), so the next batch grades it again.
        """
        rows = self._db.execute(
            "SELECT student, sha256 FROM attempts WHERE assignment = ? AND grading_error IS NULL",
            (assignment,),
        )
        return {(student, sha) for student, sha in rows}

    def record(
        self, student: str, result: GradingResult, results_path: Path, results_json: str
    ) -> None:
        """Store one attempt (replacing a regrade of the same notebook) and commit it."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO attempts (assignment, student, sha256, path, graded_at,"
                " points, max_points, pending_points, grading_error, flagged, seconds,"
                " results_path, results_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.assignment,
                    student,
                    result.submission.sha256,
                    result.submission.path,
                    result.graded_at,
                    result.score.points,
                    result.score.max_points,
                    result.score.pending_points,
                    result.grading_error,
                    int(bool(result.flags)),
                    result.timings.total_s,
                    str(results_path),
                    results_json,
                ),
            )

    def attempts(self, assignment: str, student: str | None = None) -> list[Attempt]:
        query = f"SELECT {_COLUMNS} FROM attempts WHERE assignment = ?"
        params: tuple[str, ...] = (assignment,)
        if student is not None:
            query += " AND student = ?"
            params += (student,)
        rows = self._db.execute(query + " ORDER BY student, graded_at, id", params)
        return [_attempt(row) for row in rows]

    def final(self, assignment: str, choose: Choice = "latest") -> list[Attempt]:
        """Each student's attempt that counts: the latest graded, or the highest score."""
        chosen: dict[str, Attempt] = {}
        for attempt in self.attempts(assignment):
            current = chosen.get(attempt.student)
            if current is None or choose == "latest" or attempt.points > current.points:
                chosen[attempt.student] = attempt
        return [chosen[s] for s in sorted(chosen)]

    def result(self, attempt_id: int) -> GradingResult:
        (text,) = self._db.execute(
            "SELECT results_json FROM attempts WHERE id = ?", (attempt_id,)
        ).fetchone()
        return GradingResult.model_validate_json(text)

    def final_results(
        self, assignment: str, choose: Choice = "latest"
    ) -> list[tuple[Attempt, GradingResult]]:
        """Each student's counting attempt with its result, marks included."""
        marks = self._marks_by_student(assignment)
        return [
            (a, apply_marks(self.result(a.id), marks.get(a.student, [])))
            for a in self.final(assignment, choose)
        ]

    def students(self, assignment: str) -> list[str]:
        rows = self._db.execute(
            "SELECT DISTINCT student FROM attempts WHERE assignment = ? ORDER BY student",
            (assignment,),
        )
        return [student for (student,) in rows]

    # -- marks ----------------------------------------------------------------------

    def marks(self, assignment: str, student: str | None = None) -> list[Mark]:
        query = f"SELECT {_MARK_COLUMNS} FROM marks WHERE assignment = ?"
        params: tuple[str, ...] = (assignment,)
        if student is not None:
            query += " AND student = ?"
            params += (student,)
        rows = self._db.execute(query + " ORDER BY student, criterion", params)
        return [Mark(*row) for row in rows]

    def set_marks(self, marks: list[Mark], source: str) -> None:
        """Store every mark (replacing the same key), all in one transaction, and log it."""
        with self._transaction():
            for m in marks:
                self._db.execute(
                    f"INSERT OR REPLACE INTO marks ({_MARK_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                    (
                        m.assignment,
                        m.student,
                        m.criterion,
                        m.points,
                        m.comment,
                        m.by,
                        m.at,
                        m.sha256,
                    ),
                )
                self._log(m, "set", source)

    def confirm_marks(
        self, assignment: str, student: str, criteria: list[str], sha256: str, by: str, at: str
    ) -> list[Mark]:
        """Keep these marks for the notebook ``sha256``; returns the marks confirmed."""
        confirmed = []
        with self._transaction():
            for m in self.marks(assignment, student):
                if m.criterion in criteria and m.sha256 != sha256:
                    self._db.execute(
                        "UPDATE marks SET sha256 = ? WHERE assignment = ? AND student = ?"
                        " AND criterion = ?",
                        (sha256, assignment, student, m.criterion),
                    )
                    kept = Mark(
                        m.assignment, m.student, m.criterion, m.points, m.comment, by, at, sha256
                    )
                    self._log(kept, "confirm", "grader mark --confirm")
                    confirmed.append(kept)
        return confirmed

    def clear_mark(self, assignment: str, student: str, criterion: str, by: str, at: str) -> bool:
        """Remove a mark (a manual criterion is pending again, an override is undone)."""
        with self._transaction():
            found = [m for m in self.marks(assignment, student) if m.criterion == criterion]
            if found:
                self._db.execute(
                    "DELETE FROM marks WHERE assignment = ? AND student = ? AND criterion = ?",
                    (assignment, student, criterion),
                )
                old = found[0]
                gone = Mark(assignment, student, criterion, old.points, "", by, at, old.sha256)
                self._log(gone, "clear", "grader mark --clear")
        return bool(found)

    def marks_log(self, assignment: str, student: str | None = None) -> list[dict[str, object]]:
        """Every change to the marks, oldest first: who did what, when, from where."""
        query = (
            "SELECT student, criterion, action, points, comment, marked_by, marked_at, sha256,"
            " source FROM marks_log WHERE assignment = ?"
        )
        params: tuple[str, ...] = (assignment,)
        if student is not None:
            query += " AND student = ?"
            params += (student,)
        cursor = self._db.execute(query + " ORDER BY id", params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def setting(self, assignment: str, key: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM settings WHERE assignment = ? AND key = ?", (assignment, key)
        ).fetchone()
        return row[0] if row else None

    def set_setting(self, assignment: str, key: str, value: str) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO settings (assignment, key, value) VALUES (?, ?, ?)",
                (assignment, key, value),
            )

    def _marks_by_student(self, assignment: str) -> dict[str, list[Mark]]:
        found: dict[str, list[Mark]] = {}
        for m in self.marks(assignment):
            found.setdefault(m.student, []).append(m)
        return found

    def _log(self, m: Mark, action: str, source: str) -> None:
        self._db.execute(
            "INSERT INTO marks_log (assignment, student, criterion, action, points, comment,"
            " marked_by, marked_at, sha256, source) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                m.assignment,
                m.student,
                m.criterion,
                action,
                None if action == "clear" else m.points,
                m.comment,
                m.by,
                m.at,
                m.sha256,
                source,
            ),
        )

    def assignments(self) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT assignment FROM attempts ORDER BY assignment")
        return [name for (name,) in rows]

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


_COLUMNS = (
    "id, assignment, student, sha256, path, graded_at, points, max_points, pending_points,"
    " grading_error, flagged, seconds, results_path"
)


_MARK_COLUMNS = "assignment, student, criterion, points, comment, marked_by, marked_at, sha256"


def _attempt(row: tuple) -> Attempt:
    values = list(row)
    values[10] = bool(values[10])
    return Attempt(*values)
