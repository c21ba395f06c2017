"""Issue 20's speed target: ``grader serve`` lists a class of 600 in under a second.

    python bench/serve_class.py [--students 600] [--repeat 5] [--out /tmp/serve-bench]

Writes a gradebook of ``--students`` attempts (the sample backprop result of the report
tests, each student with their own notebook hash, points, flags and grading time, a
third with a viva-style mark), then asks the app for the class page in process
(Starlette's TestClient: the server's time, no network): the first request, which
parses every result, and the following ones, which find them cached; a filter and a
sort; and one student page. Writes the table to docs/benchmarks.md (section
serve_class) and prints it as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import time
from pathlib import Path

from benchlib import machine, write_section
from starlette.testclient import TestClient

from grader.batch.gradebook import Gradebook
from grader.course import find_course
from grader.marks import Mark
from grader.report import samples
from grader.serve.app import build_app
from grader.serve.context import ServeContext

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench"


def make_gradebook(out: Path, students: int) -> Path:
    base = samples.mixed()
    path = out / "gradebook.sqlite"
    with Gradebook(path) as book:
        marks = []
        for n in range(students):
            student = f"student{n:04d}"
            sha = hashlib.sha256(student.encode()).hexdigest()
            score = base.score.model_copy(update={"points": float(n % 21)})
            result = base.model_copy(
                update={
                    "submission": base.submission.model_copy(update={"sha256": sha}),
                    "score": score,
                    "flags": ["similar to student0000"] if n % 17 == 0 else [],
                    "timings": base.timings.model_copy(update={"total_s": 5.0 + n % 60}),
                }
            )
            folder = out / student
            book.record(student, result, folder / "results.json", result.model_dump_json())
            if n % 3 == 0:
                criterion = base.criteria[0]
                marks.append(
                    Mark(
                        base.assignment,
                        student,
                        criterion.id,
                        criterion.max_points,
                        "ok",
                        "bench",
                        "2026-01-01T00:00:00+00:00",
                        sha,
                    )  # fmt: skip
                )
        book.set_marks(marks, source="bench")
    return path


def timed(client: TestClient, url: str) -> float:
    start = time.perf_counter()
    answer = client.get(url)
    elapsed = time.perf_counter() - start
    assert answer.status_code == 200, (url, answer.status_code)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("/tmp/serve-bench"))
    parser.add_argument("--no-docs", action="store_true", help="Print only.")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    path = make_gradebook(args.out, args.students)
    assignment = find_course(ROOT).assignment(samples.mixed().assignment)
    client = TestClient(build_app(ServeContext(assignment, path, TOKEN)))
    first = timed(client, f"/class?token={TOKEN}")
    cached = [timed(client, "/class") for _ in range(args.repeat)]
    filtered = [timed(client, "/class?show=flagged&sort=score&desc=1") for _ in range(args.repeat)]
    student = [timed(client, "/student/student0300") for _ in range(args.repeat)]
    results = {
        "students": args.students,
        "first_class_page_s": round(first, 3),
        "class_page_s": round(statistics.median(cached), 3),
        "filtered_sorted_s": round(statistics.median(filtered), 3),
        "student_page_s": round(statistics.median(student), 3),
        "result_json_bytes": len(samples.mixed().model_dump_json()),
    }
    print(json.dumps(results, indent=2))
    if args.no_docs:
        return
    write_section(
        "serve_class",
        f"""## Reviewing a class in the browser (issue 20)

`python bench/serve_class.py`: a gradebook of {args.students} attempts (the report tests'
backprop sample, {results["result_json_bytes"]} bytes of results each, a third with a mark,
one in 17 flagged), and `grader serve`'s class page asked for in process, so the time is
the server's (Starlette's TestClient, no network). Target: under 1 s for 600 students.
Medians of {args.repeat} requests; {machine()}.

| page | server time |
|---|---|
| class page, first request (parses every result) | {results["first_class_page_s"]:.3f} s |
| class page, later requests (results cached, marks read fresh) | {results["class_page_s"]:.3f} s |
| class page, flagged only, sorted by score | {results["filtered_sorted_s"]:.3f} s |
| one student page (report, notebook, history) | {results["student_page_s"]:.3f} s |
""",
    )


if __name__ == "__main__":
    main()
