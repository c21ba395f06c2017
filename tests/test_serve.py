"""``grader serve`` without a browser: Starlette's TestClient against the app.

The token gate, CSRF, the class table's filters, the student page's safe notebook,
marks through the same checks and log as ``grader mark``, and export downloads.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import re
import time
import zipfile

import pytest
from click.testing import CliRunner
from serve_class import PAYLOAD, graded_class
from starlette.testclient import TestClient

from grader.batch.gradebook import Gradebook
from grader.cli import main
from grader.course import find_course
from grader.serve.app import build_app
from grader.serve.context import ServeContext
from grader.serve.security import CONTENT_SECURITY_POLICY

TOKEN = "test-token-123"


@pytest.fixture()
def served(tmp_path):
    course, out = graded_class(tmp_path)
    ctx = ServeContext(find_course(course).assignment("toy"), out / "gradebook.sqlite", TOKEN)
    client = TestClient(build_app(ctx), follow_redirects=False)
    assert client.get(f"/class?token={TOKEN}").status_code == 200  # sets the cookies
    return client, ctx


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def mark_viva(client: TestClient, student: str, points: str, by: str) -> dict[str, str]:
    """Mark ``student``'s viva through the form; returns the form, to post again."""
    token = csrf(client.get(f"/student/{student}").text)
    form = {"csrf": token, "criterion": "viva", "points": points, "comment": by, "by": by}
    assert client.post(f"/student/{student}/mark", data=form).status_code == 303
    return form


def test_every_request_without_the_token_is_refused(tmp_path):
    course, out = graded_class(tmp_path, students=1)
    ctx = ServeContext(find_course(course).assignment("toy"), out / "gradebook.sqlite", TOKEN)
    client = TestClient(build_app(ctx))
    for url in ("/", "/class", "/student/s01", "/student/s01/report", "/exports", "/summary"):
        assert client.get(url).status_code == 403, url
        assert client.get(url + "?token=wrong").status_code == 403, url
    assert client.post("/student/s01/mark", data={"points": "5"}).status_code == 403
    ok = client.get(f"/class?token={TOKEN}")
    assert ok.status_code == 200 and "s01" in ok.text
    assert ok.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'none'" in CONTENT_SECURITY_POLICY
    assert ok.headers["referrer-policy"] == "no-referrer"
    assert client.get("/student/s01").status_code == 200, "the cookie carries the token on"


def test_class_page_filters_and_sorts(served):
    client, _ = served
    page = client.get("/class").text
    assert re.findall(r'data-student="(s\d+)"', page) == ["s01", "s02", "s03", "s04"]
    flagged = client.get("/class?show=flagged").text
    assert re.findall(r'data-student="(s\d+)"', flagged) == ["s02"]
    assert "similar to s01" in flagged
    by_score = client.get("/class?sort=score").text
    assert re.findall(r'data-student="(s\d+)"', by_score)[0] == "s04"
    pending = client.get("/class?show=pending").text
    assert "viva, writeup" in pending and 'href="/summary"' in pending


def test_the_summary_links_lead_to_student_pages(served):
    client, _ = served
    summary = client.get("/summary")
    assert summary.status_code == 200 and 'href="s03/report.instructor.html"' in summary.text
    assert client.get("/s03/report.instructor.html").headers["location"] == "/student/s03"


def test_only_real_png_images_are_shown(tmp_path):
    from serve_class import tiny_png

    from grader.serve.notebook_view import read_notebook

    svg = base64.b64encode(b"<svg onload=alert(1)/>").decode()
    outputs = [
        {"output_type": "display_data", "data": {"image/png": svg}},
        {"output_type": "display_data", "data": {"image/png": tiny_png()}},
        {"output_type": "display_data", "data": {"text/html": "<b>x</b>"}},
        {"output_type": "error", "traceback": ["\x1b[31mValueError\x1b[0m: bad"]},
    ]
    cell = {"cell_type": "code", "source": "x", "outputs": outputs}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [cell]}), encoding="utf-8")
    (shown,) = read_notebook(path).cells
    kinds = [(o.kind, o.text) for o in shown.outputs]
    assert kinds[0] == ("omitted", "[image/png: not shown]")  # not PNG bytes
    assert kinds[1][0] == "png" and shown.outputs[1].png.startswith("data:image/png;base64,")
    assert kinds[2] == ("omitted", "[text/html: not shown]")
    assert kinds[3] == ("error", "ValueError: bad")
    assert read_notebook(tmp_path / "missing.ipynb").problem.startswith("cannot show")


def test_student_page_shows_the_notebook_as_text_only(served):
    client, _ = served
    page = client.get("/student/s01").text
    assert PAYLOAD not in page and "<svg" not in page
    assert "&lt;script&gt;document.title=" in page
    assert "[image/svg+xml, text/html, text/plain]" not in page  # text/plain is shown instead
    assert "data:image/png;base64,iVBOR" in page
    assert "no marks yet" in page and 'src="/student/s01/report"' in page
    report = client.get("/student/s01/report")
    assert report.status_code == 200 and "Viva-voce" in report.text


def test_a_mark_and_an_override_land_in_the_gradebook_and_log(served):
    client, ctx = served
    token = csrf(client.get("/student/s03").text)
    form = {"csrf": token, "criterion": "viva", "points": "4", "comment": "Clear <b>", "by": "ta1"}
    done = client.post("/student/s03/mark", data=form)
    assert done.status_code == 303, done.text
    override = dict(form, criterion="scale", points="1", comment="half right")
    assert client.post("/student/s03/mark", data=override).status_code == 303
    with Gradebook(ctx.gradebook) as book:
        marks = {m.criterion: m for m in book.marks("toy", "s03")}
        log = book.marks_log("toy", "s03")
    assert marks["viva"].points == 4 and marks["viva"].by == "ta1"
    assert marks["scale"].comment == "half right"
    assert [e["source"] for e in log] == ["grader serve", "grader serve"]
    page = client.get("/student/s03").text
    assert "Clear &lt;b&gt;" in page and "tests said passed 3" in page
    csv_export = client.post("/exports", data={"csrf": token, "format": "csv"})
    assert csv_export.status_code == 200
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(csv_export.text))}
    assert rows["s03"]["viva"] == "4"


def test_bad_marks_are_refused_with_the_clis_message(served):
    client, ctx = served
    token = csrf(client.get("/student/s01").text)
    base = {"csrf": token, "criterion": "viva", "by": "ta1", "comment": ""}
    too_many = client.post("/student/s01/mark", data=dict(base, points="7"))
    assert too_many.status_code == 400
    assert "points 7 are above the maximum of &#39;viva&#39;, 5" in too_many.text
    unknown = client.post("/student/s01/mark", data=dict(base, criterion="oral", points="1"))
    assert "unknown criterion" in unknown.text
    no_csrf = client.post("/student/s01/mark", data=dict(base, csrf="x", points="1"))
    assert no_csrf.status_code == 403
    with Gradebook(ctx.gradebook) as book:
        assert book.marks("toy") == []


def test_the_second_writer_sees_the_first_ones_mark(served):
    client, ctx = served
    form = mark_viva(client, "s01", "3", "ta1")
    second = client.post("/student/s01/mark", data=dict(form, points="5", by="ta2"))
    assert second.status_code == 409 and "ta1 marked viva 3" in second.text
    seen = re.search(r'name="seen" value="([^"]*)"', second.text).group(1)
    again = client.post("/student/s01/mark", data=dict(form, points="5", by="ta2", seen=seen))
    assert again.status_code == 303
    with Gradebook(ctx.gradebook) as book:
        assert [e["marked_by"] for e in book.marks_log("toy", "s01")] == ["ta1", "ta2"]


def test_a_changed_notebook_asks_for_confirmation(served, tmp_path):
    client, ctx = served
    (tmp_path / "subs" / "s02.ipynb").write_text("{}", encoding="utf-8")
    page = client.get("/student/s02").text
    assert 'id="changed"' in page
    form = {"csrf": csrf(page), "criterion": "viva", "points": "2", "comment": "", "by": "ta"}
    asked = client.post("/student/s02/mark", data=form)
    assert asked.status_code == 409 and "changed since it was graded" in asked.text
    assert client.post("/student/s02/mark", data=dict(form, confirmed="1")).status_code == 303


def test_next_ungraded_walks_the_queue(served):
    client, _ = served
    assert client.get("/next").headers["location"] == "/student/s01"
    assert client.get("/next?after=s01").headers["location"] == "/student/s02"
    assert client.get("/next?after=s04").headers["location"] == "/student/s01"


def test_per_student_exports_come_as_a_zip(served):
    client, _ = served
    token = csrf(client.get("/exports").text)
    got = client.post("/exports", data={"csrf": token, "format": "gradescope"})
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(got.content)).namelist()
    assert "s01/results.json" in names
    canvas = client.post("/exports", data={"csrf": token, "format": "canvas"})
    assert canvas.status_code == 400 and "roster" in canvas.text


@pytest.mark.slow
def test_regrade_one_student_keeps_the_marks(served):
    client, ctx = served
    token = mark_viva(client, "s01", "4", "ta")["csrf"]
    with Gradebook(ctx.gradebook) as book:
        (before,) = book.attempts("toy", "s01")
    started = client.post("/regrade", data={"csrf": token, "student": "s01"})
    assert started.status_code == 303
    status = started.headers["location"]
    for _ in range(240):
        answer = client.get(status).text
        if "finished" in answer:
            break
        assert '<meta http-equiv="refresh" content="2">' in answer
        time.sleep(0.5)
    assert "1 of 1 done" in answer and 'content="0;url=/student/s01?msg=regraded' in answer
    with Gradebook(ctx.gradebook) as book:
        (after,) = book.attempts("toy", "s01")
        assert after.graded_at != before.graded_at and after.sha256 == before.sha256
        assert [m.points for m in book.marks("toy", "s01")] == [4.0]


@pytest.fixture()
def serve_argv(tmp_path, monkeypatch):
    """``grader serve``'s arguments over a graded class, and the addresses it served on:
    uvicorn's serve-forever is replaced by a call that records the socket and returns."""
    import uvicorn

    course, out = graded_class(tmp_path, students=1, reports=False)
    served: list[tuple[str, int]] = []

    def run(self, sockets) -> None:  # noqa: ANN001 - instead of serving forever
        served.append(sockets[0].getsockname())
        sockets[0].close()

    monkeypatch.setattr(uvicorn.Server, "run", run)
    return ["serve", "-a", "toy", "--course", str(course), "--out", str(out), "--port", "0"], served


def test_the_command_binds_loopback_and_warns_about_other_hosts(serve_argv, tmp_path):
    args, served = serve_argv
    local = CliRunner().invoke(main, args)
    assert local.exit_code == 0, local.output
    assert served[0][0] == "127.0.0.1" and "warning" not in local.stderr
    assert re.search(r"http://127\.0\.0\.1:\d+/class\?token=\S{20,}", local.stderr)
    anywhere = CliRunner().invoke(main, [*args, "--host", "0.0.0.0"])
    assert served[1][0] == "0.0.0.0" and "warning: listening on 0.0.0.0" in anywhere.stderr
    missing = CliRunner().invoke(main, [*args[:5], "--out", str(tmp_path / "none")])
    assert missing.exit_code != 0 and "no gradebook" in str(missing.exception)


def test_serving_leaves_the_processes_other_log_handlers_open(serve_argv):
    """uvicorn's default logging config (``dictConfig``) shuts down every handler in the
    process. absl's, which TensorFlow installs, then closed the stream it held: in the
    suite, pytest's capture file, which failed every later test in that process."""
    closed: list[logging.Handler] = []

    class Recording(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            pass

        def close(self) -> None:
            closed.append(self)
            super().close()

    library = logging.getLogger("dlgrader-test.library")
    handler = Recording()
    library.addHandler(handler)
    try:
        result = CliRunner().invoke(main, serve_argv[0])
    finally:
        library.removeHandler(handler)
    assert result.exit_code == 0, result.output
    assert not closed, "grader serve closed a log handler it does not own"
    assert logging.getLogger("uvicorn.error").getEffectiveLevel() == logging.WARNING
