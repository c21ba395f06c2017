"""The class summary page: built from a gradebook, checked in headless Chromium."""

from __future__ import annotations

from html.parser import HTMLParser

from browser import run_chromium

from grader.batch.gradebook import Gradebook
from grader.batch.summary import build_summary, write_summary
from grader.report import samples

EVIL_ID = "<script>alert(1)</script>"


class Tables(HTMLParser):
    """Rows of each table by id, and every image source."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: dict[str, int] = {}
        self.images: list[str] = []
        self.scripts = 0
        self._table = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("id", "")
        elif tag == "tr" and self._table:
            self.rows[self._table] = self.rows.get(self._table, 0) + 1
        elif tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag == "script":
            self.scripts += 1


def class_gradebook(tmp_path) -> Gradebook:
    book = Gradebook(tmp_path / "out" / "gradebook.sqlite")
    results = {
        "ann": samples.full_marks(),
        "bob": samples.mixed(),
        EVIL_ID: samples.hostile(),
    }
    flagged = samples.mixed().model_copy(update={"flags": ["an object that equals anything"]})
    results["cy"] = flagged
    for index, (student, result) in enumerate(results.items()):
        submission = result.submission.model_copy(update={"sha256": f"{index:064d}"})
        result = result.model_copy(update={"submission": submission, "assignment": "lab"})
        folder = tmp_path / "out" / f"s{index}"
        book.record(student, result, folder / "results.json", result.model_dump_json())
    return book


def test_summary_numbers_follow_the_gradebook(tmp_path):
    with class_gradebook(tmp_path) as book:
        assignment = "lab"
        summary = build_summary(book, assignment, tmp_path / "out")
    assert [r.student for r in summary.rows] == sorted(["ann", "bob", "cy", EVIL_ID])
    full = next(r for r in summary.rows if r.student == "ann")
    assert full.percent == 100 and full.report == "s0/report.instructor.html"
    assert [row.student for row, _ in summary.flagged] == ["cy"]
    assert EVIL_ID in [row.student for row in summary.failed]  # the hostile sample stopped
    assert all(0 <= rate.passed <= rate.graded for rate in summary.rates)
    assert summary.histogram.startswith("data:image/png;base64,")


def test_summary_page_renders_in_chromium(tmp_path, chromium):
    with class_gradebook(tmp_path) as book:
        page = write_summary(book, "lab", tmp_path / "out")
    done = run_chromium(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-500:]
    dom = Tables(done.stdout)
    assert dom.scripts == 0, "a student id must never become a script"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in done.stdout
    assert dom.rows["students-table"] == 1 + 4 and dom.rows["flagged"] == 1 + 1
    assert dom.rows["failed"] >= 2 and dom.rows["slowest"] == 1 + 4
    assert sum(src.startswith("data:image/png;base64,") for src in dom.images) == 2


def test_summary_shows_marks_and_brings_the_marked_reports_up_to_date(tmp_path):
    from test_marks import manual_rubric, mark, record, result_for

    rubric = manual_rubric(tmp_path)
    out = tmp_path / "out"
    with Gradebook(out / "gradebook.sqlite") as book:
        for student in ("ann", "bob", "cy", "dee"):
            (out / student).mkdir(parents=True)
            record(book, result_for(rubric, student), student, out)
        record(book, result_for(rubric, "cy", version=1), "cy", out)  # changed after marking
        book.set_marks(
            [
                mark("ann", "viva", 5, comment="<b>sharp</b>"),
                mark("ann", "writeup", 3),
                mark("bob", "estimate", 1, comment="override"),
                mark("cy", "viva", 2),
            ],
            source="test",
        )
        page = write_summary(book, "toy", out)
        summary = build_summary(book, "toy", out)
    assert summary.marked == ["Viva-voce", "Write-up", "Sample mean"]
    rows = {r.student: r for r in summary.rows}
    assert (rows["ann"].points, rows["ann"].pending_marks) == (18, 0)
    assert [m.points for m in rows["bob"].marks] == ["pending", "pending", "1 / 4"]
    assert rows["bob"].marks[2].override and rows["bob"].points == 7
    assert [r.student for r in summary.to_review] == ["cy"] and rows["cy"].review == ["Viva-voce"]
    assert summary.pending_marks == 3 + 2  # bob's two, cy's write-up, dee's two
    rates = {r.name: r for r in summary.rates}
    assert (rates["Viva-voce"].graded, rates["Viva-voce"].passed) == (2, 1)
    html = page.read_text()
    dom = Tables(html)
    assert dom.rows["marks"] == 1 + 4 and dom.rows["review"] == 1 + 1
    assert "&lt;b&gt;sharp&lt;/b&gt;" in html and "<b>sharp" not in html
    assert "&lt;b&gt;sharp&lt;/b&gt;" in (out / "ann" / "report.html").read_text()
    assert "18 / 20" in (out / "ann" / "report.html").read_text()
    assert "adjusted by the instructor" in (out / "bob" / "report.html").read_text()
    assert not (out / "dee" / "report.html").exists(), "no marks: the worker's report stands"
