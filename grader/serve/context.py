"""What every page of the app shares: the assignment, its gradebook, the token."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.gradebook import Attempt, Gradebook
from grader.course import Assignment
from grader.results import GradingResult
from grader.serve.classlist import ResultCache


@dataclass
class ServeContext:
    assignment: Assignment
    gradebook: Path
    token: str
    cache: ResultCache = field(default_factory=ResultCache)
    #: Marks from this server one at a time, so a form's "what I saw" check and the
    #: write cannot interleave; other processes are kept apart by SQLite's transactions.
    write_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return self.assignment.name

    @property
    def out_dir(self) -> Path:
        return self.gradebook.parent

    @property
    def templates_dir(self) -> Path | None:
        return self.assignment.course.templates_dir

    @contextmanager
    def book(self) -> Iterator[Gradebook]:
        """A connection per request: sqlite3 connections are not shared across threads."""
        book = Gradebook(self.gradebook)
        try:
            yield book
        finally:
            book.close()

    def warm(self) -> None:
        """Parse every counting result now (a server thread at start), so the first
        class page a TA opens finds them in the cache."""
        with self.book() as book:
            self.cache.final_results(book, self.name)

    def counting(self, book: Gradebook) -> dict[str, tuple[Attempt, GradingResult]]:
        return {a.student: (a, r) for a, r in self.cache.final_results(book, self.name)}
