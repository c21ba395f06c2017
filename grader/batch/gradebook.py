"""The gradebook: every graded attempt in SQLite, written the moment it is graded.

One row per (assignment, student, notebook hash). A rerun skips rows that exist, so a
batch killed half-way (even by ``kill -9``: each row is its own committed transaction,
and SQLite's journal keeps the file whole) resumes where it stopped, and a student who
submits a changed notebook gets a second attempt next to the first. Exports take each
student's latest attempt, or the best.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

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
"""
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

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def graded(self, assignment: str) -> set[tuple[str, str]]:
        """(student, sha256) of every attempt already graded for ``assignment``."""
        rows = self._db.execute(
            "SELECT student, sha256 FROM attempts WHERE assignment = ?", (assignment,)
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


def _attempt(row: tuple) -> Attempt:
    values = list(row)
    values[10] = bool(values[10])
    return Attempt(*values)
