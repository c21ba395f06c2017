"""What student text can do to a report: nothing. Hostile text stays inert in both
views and both formats, Markdown keeps its structure, and the text helpers that make it so.
"""

from __future__ import annotations

import pytest
from report_html import Elements, assert_inert, markdown_to_html

from grader.report import samples
from grader.report.render import render_html, render_markdown
from grader.report.text import clean_text, md_cell, md_fence, md_inline, relative_url
from grader.results import Figure

# -- hostile student text -----------------------------------------------------------


@pytest.mark.parametrize("view", ["student", "instructor"])
def test_hostile_text_is_escaped_in_html(view):
    html = render_html(samples.hostile(), view)
    assert_inert(html)
    assert "<script" not in html.lower() and "<img src=x" not in html
    assert "&lt;script&gt;document.title=" in html
    assert "\x1b" not in html and "[0;31m" not in html and "set-title" not in html
    assert "\u202e" not in html and "gnp.exe" in html
    assert "naïve ünïcödé ✓" in html
    title = Elements(html).text("title")
    assert "<script>document.title='pwned'" in title, "the name shows as text in the title"


@pytest.mark.parametrize("view", ["student", "instructor"])
def test_hostile_text_is_inert_in_markdown(view):
    markdown = render_markdown(samples.hostile(), view)
    assert "\x1b" not in markdown and "\u202e" not in markdown
    html = markdown_to_html(markdown)
    assert_inert(html)
    page = Elements(html)
    headings = page.text("h1") + page.text("h2") + page.text("h3")
    assert "Injected heading" not in headings, "a ``` in student text closed a code block"
    assert "Injected heading" in page.text("code"), "tracebacks belong in code blocks"
    assert "<script>document.title='pwned'" in page.text("code")
    assert "*bold*" in page.text("p") and "[link](javascript:alert(1))" in page.text("p")


def test_markdown_tables_keep_their_columns_with_pipes_in_student_text():
    html = markdown_to_html(render_markdown(samples.hostile(), "instructor"))
    criteria, environment = html.split("<table>")[1:3]
    rows = criteria.split("<tr>")[1:]
    assert len(rows) == 1 + len(samples.hostile().criteria)
    assert all(row.count("<td") + row.count("<th") == 4 for row in rows)
    assert "<td>The loss | falls ` slowly ``` | |</td>" in criteria
    assert "<td>Loss &lt;b&gt;decreases&lt;/b&gt; | `fast`</td>" in criteria
    assert all(row.count("<td") == 2 for row in environment.split("<tr>")[2:])
    assert "<td>evil|pkg</td>" in environment


def test_markdown_structure():
    markdown = render_markdown(samples.mixed())
    lines = markdown.splitlines()
    assert lines[0] == "# Backpropagation from scratch"
    for heading in (
        "## Score on the public tests",
        "## Criteria",
        "## Your notebook",
        "### Cell 5 (In \\[5\\]): NameError",
        "## Warnings",
        "## How it was graded",
    ):
        assert heading in lines, heading
    assert "| Criterion | Status | Points | Feedback |" in lines
    assert "**3.5 / 13 points (26.9%)**" in lines
    assert (
        "| Backprop gradients | failed | 0 / 3 | Gradients do not match finite differences. |"
        in lines
    )
    assert "| Final accuracy (secret band) | released after the due date |   |   |" in lines
    html = markdown_to_html(markdown)
    assert html.count("<table>") == 3 and '<pre><code class="language-text">' in html
    full = render_markdown(samples.full_marks())
    assert "![Figure drawn by cell 9](figures/cell9_1.png)" in full
    assert "## Suggested viva questions" not in full
    assert "## Suggested viva questions" in render_markdown(samples.full_marks(), "instructor")


def test_unsafe_figure_paths_get_no_image():
    result = samples.full_marks()
    bad = [
        Figure(cell=2, path=p, width=10, height=10)
        for p in ("javascript:alert(1)", "../../etc/x.png", "/abs.png", "http://e.vil/x.png")
    ]
    result = result.model_copy(
        update={"execution": result.execution.model_copy(update={"figures": bad})}
    )
    html = render_html(result)
    assert Elements(html).named("img") == []
    assert html.count("This figure could not be shown.") == 4
    assert "](" not in render_markdown(result)


# -- text helpers -------------------------------------------------------------------


def test_clean_text_strips_escapes_and_keeps_head_and_tail():
    assert (
        clean_text("\x1b[1;31mred\x1b[0m \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ ok")
        == "red link ok"
    )
    assert clean_text("a\r\nb\rc\x00\x07\x9b2J\u2067d") == "a\nb\ncd"
    long = "HEAD" + "x" * 10_000 + "TAIL"
    cut = clean_text(long, limit=100)
    assert cut.startswith("HEAD") and cut.endswith("TAIL") and len(cut) < 160
    assert "characters left out" in cut


def test_markdown_helpers():
    assert md_inline("a|b `c` <d> *e* [f](g) #h\nnext") == (
        "a\\|b \\`c\\` \\<d\\> \\*e\\* \\[f\\](g) \\#h next"
    )
    assert md_cell("") == " "
    fenced = md_fence("x\n````\ny")
    assert fenced.startswith("`````text\n") and fenced.endswith("\n`````")
    assert md_fence("plain").startswith("```text\n")


def test_relative_url_accepts_only_plain_relative_paths():
    assert relative_url("figures/cell 9.png") == "figures/cell%209.png"
    assert relative_url('fig"onerror=x.png') == "fig%22onerror%3Dx.png"
    for bad in (
        "",
        "/x.png",
        "../x.png",
        "a/../x.png",
        "a//b.png",
        "c:\\x.png",
        "data:x",
        "javascript:alert(1)",
        "a\\b.png",
    ):
        assert relative_url(bad) is None, bad
