"""``grader serve`` in a real headless Chromium (Debian's, driven by Playwright; nothing
downloads a browser): the command started as a TA would, its printed URL opened.

A TA marks a viva and overrides a criterion through the forms; the gradebook, the CSV
export and the student's report show it. Without the token nothing is served. A
student's ``<script>`` never runs. Two TAs submitting at once both land in the log.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_class import graded_class

from grader.batch.gradebook import Gradebook

sync_api = pytest.importorskip("playwright.sync_api")

DOCS = Path(__file__).resolve().parent.parent / "docs"
#: Set to write the docs' screenshots (docs/serve-class.png, docs/serve-student.png).
SCREENSHOTS_ENV = "DLGRADER_SERVE_SCREENSHOTS"


@pytest.fixture()
def server(tmp_path) -> Iterator[tuple[str, Path]]:
    """(URL with the token, out folder) of a running ``grader serve`` over a toy class."""
    course, out = graded_class(tmp_path, students=6)
    process = subprocess.Popen(
        [sys.executable, "-m", "grader", "serve", "-a", "toy", "--course", course,
         "--out", out, "--port", "0"],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        line = process.stderr.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+)/class\?token=(\S+)", line)
        assert found, line + process.stderr.read() if process.poll() is not None else line
        yield f"{found.group(1)}/class?token={found.group(2)}", out
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture()
def browser(chromium):
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield launched
        launched.close()


def page_of(browser, url: str):
    """A fresh browser profile (a TA of their own) that opened ``url``."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a script opened a dialog: {dialog.message}"))
    page.goto(url)
    return page


def base(url: str) -> str:
    return url.split("/class?", 1)[0]


def test_class_page_lists_the_class_and_needs_the_token(browser, server):
    url, _ = server
    page = page_of(browser, url)
    students = page.locator("tr.row td:first-child a").all_inner_texts()
    assert students == ["s01", "s02", "s03", "s04", "s05", "s06"]
    page.click("text=flagged (2)")
    assert page.locator("tr.row td:first-child a").all_inner_texts() == ["s02", "s06"]
    stranger = browser.new_context().new_page()
    for path in ("/class", "/student/s01", "/student/s01/report", "/exports"):
        answer = stranger.goto(base(url) + path)
        assert answer.status == 403 and "needs the token" in stranger.content()
    if os.environ.get(SCREENSHOTS_ENV):
        page.goto(base(url) + "/class")
        page.set_viewport_size({"width": 1000, "height": 330})
        page.screenshot(path=str(DOCS / "serve-class.png"))


def test_a_students_script_never_runs(browser, server):
    url, _ = server
    page = page_of(browser, url)
    page.goto(base(url) + "/student/s01")
    assert page.title().startswith("s01"), page.title()
    assert page.evaluate("document.body.dataset.pwned") is None
    notebook = page.inner_text("#notebook")
    assert "<script>document.title='pwned'" in notebook, "student text shows as text"
    assert page.locator("#notebook script, #notebook svg").count() == 0
    assert page.locator("#notebook img").count() == 1  # the PNG, as a data URI
    report = page.frame_locator("#report")
    assert "Viva-voce" in report.locator("body").inner_text()
    for frame in page.frames:
        assert frame.evaluate("document.title") != "pwned"


def test_a_ta_marks_a_viva_and_an_override(browser, server):
    url, out = server
    page = page_of(browser, url)
    page.click("text=next ungraded")
    assert page.url.endswith("/student/s01")
    page.fill("#crit-viva [name=points]", "4")
    page.fill("#crit-viva [name=comment]", "Explained the estimator well")
    page.fill("#crit-viva [name=by]", "ta.alice")
    page.click("#crit-viva button[type=submit]")
    assert "s01 / viva: 4 by ta.alice" in page.inner_text("#message")
    page.fill("#crit-scale [name=points]", "1.5")
    page.fill("#crit-scale [name=comment]", "Right idea, wrong shape")
    page.click("#crit-scale button:text('Override')")
    assert "Right idea, wrong shape" in page.inner_text("#crit-scale")
    assert "tests said passed 3" in page.inner_text("#crit-scale")
    assert (
        "Explained the estimator well" in page.frame_locator("#report").locator("body").inner_text()
    )
    if os.environ.get(SCREENSHOTS_ENV):
        page.screenshot(path=str(DOCS / "serve-student.png"))
    with Gradebook(out / "gradebook.sqlite") as book:
        marks = {m.criterion: (m.points, m.comment, m.by) for m in book.marks("toy", "s01")}
    assert marks == {
        "viva": (4.0, "Explained the estimator well", "ta.alice"),
        "scale": (1.5, "Right idea, wrong shape", "ta.alice"),
    }
    assert "Explained the estimator well" in (out / "s01" / "report.html").read_text()
    page.goto(base(url) + "/exports")
    with page.expect_download() as download:
        page.click("#export-csv")
    rows = {
        r["student"]: r
        for r in csv.DictReader(io.StringIO(Path(download.value.path()).read_text()))
    }
    assert rows["s01"]["viva"] == "4" and rows["s01"]["scale"] == "1.5"
    page.click("text=next ungraded")
    assert page.url.endswith("/student/s01"), "s01's write-up is still to mark"


def test_two_tas_marking_at_once_both_land(browser, server):
    url, out = server
    first, second = page_of(browser, url), page_of(browser, url)
    for page, who, criterion in ((first, "ta1", "viva"), (second, "ta2", "writeup")):
        page.goto(base(url) + "/student/s03")
        page.fill(f"#crit-{criterion} [name=points]", "3")
        page.fill(f"#crit-{criterion} [name=by]", who)
    first.click("#crit-viva button[type=submit]", no_wait_after=True)
    second.click("#crit-writeup button[type=submit]", no_wait_after=True)
    first.wait_for_selector("#message")
    second.wait_for_selector("#message")
    # Now both open the viva: the later one learns of the earlier one's mark first.
    for page in (first, second):
        page.fill("#crit-viva [name=points]", "5")
        page.fill("#crit-viva [name=by]", "ta1" if page is first else "ta2")
    first.click("#crit-viva button[type=submit]")
    second.click("#crit-viva button[type=submit]")
    assert "ta1 marked viva 5" in second.inner_text("#why")
    second.click("text=Save this mark")
    with Gradebook(out / "gradebook.sqlite") as book:
        log = [(e["marked_by"], e["criterion"]) for e in book.marks_log("toy", "s03")]
    assert sorted(log[:2]) == [("ta1", "viva"), ("ta2", "writeup")]
    assert log[2:] == [("ta1", "viva"), ("ta2", "viva")]
    assert "ta2" in second.inner_text("#crit-viva")


@pytest.mark.slow
def test_regrade_from_the_page_comes_back_when_done(browser, server):
    url, out = server
    page = page_of(browser, url)
    page.goto(base(url) + "/student/s02")
    # The status page refreshes itself every two seconds, so its live DOM can be mid-navigation
    # (content() then reads ""): judge the server's first answer to the click instead.
    with page.expect_navigation() as clicked:
        page.click("#regrade")
    status = clicked.value
    assert "/regrade/" in status.url and "Regrading 1 notebook" in status.text()
    page.wait_for_url(re.compile(r"/student/s02\?msg=regraded"), timeout=120_000)
    assert "regraded s02" in page.inner_text("#message")
    with Gradebook(out / "gradebook.sqlite") as book:
        (attempt,) = book.attempts("toy", "s02")
    assert attempt.graded_at != "2025-03-01T10:00:00+00:00", "graded again"
