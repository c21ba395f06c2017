"""The feedback reports: what each view shows, and that student text stays inert.

The results documents come from grader.report.samples (full marks; a mixed
check-mode run with a cell error, GPU pending/excluded, hidden and
after-the-due-date criteria; and a hostile submission). HTML is checked by
parsing it, Markdown by rendering it with markdown-it (raw HTML allowed, as a
permissive viewer would) and looking at the elements that come out
(tests/report_html.py). Hostile text and the text helpers: tests/test_report_safety.py.
"""

from __future__ import annotations

import pytest
from report_html import Elements

from grader import bundled
from grader.errors import ConfigError
from grader.report import samples
from grader.report.render import render_html, render_markdown, write_reports
from grader.report.view import build_view
from grader.scoring import total_score

HIDDEN_DETAIL = "max relative error 0.31 on W2"
LATER_FEEDBACK = "Accuracy met the top band."
CHECK_LABEL = "hidden tests will also be run when your work is graded"


# -- HTML: content ------------------------------------------------------------


def test_full_marks_html_shows_title_score_rows_figure_and_environment():
    html = render_html(samples.full_marks())
    page = Elements(html)
    assert "LeNet-5 on CIFAR-10" in page.text("h1")
    assert "alice.ipynb" in html
    assert "10 / 10" in page.text("section") and "100.0%" in html
    rows = [a["class"] for a in page.named("tr") if (a.get("class") or "").startswith("st-")]
    assert rows == ["st-passed"] * 3
    assert page.named("img") == [
        {
            "src": "figures/cell9_1.png",
            "alt": "Figure drawn by cell 9",
            "width": "640",
            "height": "480",
            "loading": "lazy",
        }
    ]
    assert "No cell raised an error" in html
    assert "torch" in page.text("th") and "2.13.0" in page.text("td")
    assert "Running the notebook" in html and "41.5 s" in html
    assert "full data set" in html
    assert CHECK_LABEL not in html, "a graded run must not be labelled as check mode"


def test_the_page_is_self_contained_and_forbids_scripts():
    html = render_html(samples.full_marks())
    page = Elements(html)
    assert page.named("link") == [] and page.named("script") == []
    policy = [m["content"] for m in page.named("meta") if m.get("http-equiv")]
    assert policy and "default-src 'none'" in policy[0] and "script-src" not in policy[0]
    assert page.text("style").count("{") > 20, "the CSS should be inline"


def test_mixed_result_labels_each_status_in_words():
    html = render_html(samples.mixed(), "instructor")
    labels = Elements(html).text("td")
    for label in (
        "passed",
        "partial credit",
        "failed",
        "error",
        "not run",
        "needs a GPU (pending)",
        "needs a GPU (excluded)",
    ):
        assert label in labels, label


def test_check_mode_is_labelled_plainly():
    for view in ("student", "instructor"):
        html = render_html(samples.mixed(), view)
        banner = [a for a in Elements(html).named("p") if a.get("class") == "banner check"]
        assert banner and CHECK_LABEL in html
        assert "Score on the public tests" in html
    assert CHECK_LABEL in render_markdown(samples.mixed())
    assert CHECK_LABEL not in render_markdown(samples.full_marks())


def test_pending_and_excluded_gpu_points_are_shown_apart_and_explained():
    html = render_html(samples.mixed(), "instructor")
    assert "6.5 / 16" in html
    assert (
        "2 points pending:</strong> withheld until this work is graded on a machine with a GPU"
        in html
    )
    assert "1 point excluded:</strong> those criteria need a GPU" in html
    assert "— / 2" in html and "— (1 excluded)" in html


def test_cell_error_shows_cell_number_error_and_collapsible_traceback():
    html = render_html(samples.mixed())
    page = Elements(html)
    assert "Cell 5" in page.text("h3") and "NameError" in page.text("h3")
    assert "name 'lr' is not defined" in page.text("article")
    assert "Traceback (most recent call last)" in page.text("details")
    assert "Traceback (most recent call last)" not in page.text("summary")
    assert "The notebook stopped at cell 8" in html
    assert "8 of 10 code cells ran" in html


def test_warnings_and_the_missing_sandbox_are_shown():
    html = render_html(samples.mixed())
    assert "no sandbox: student code ran" in Elements(html).text("li")
    assert "none (student code was not isolated)" in html


def test_grading_error_is_shown_as_an_alert():
    result = samples.full_marks().model_copy(update={"grading_error": "the kernel died <b>"})
    html = render_html(result)
    alerts = [a for a in Elements(html).named("p") if a.get("role") == "alert"]
    assert alerts and "the kernel died &lt;b&gt;" in html


# -- views ----------------------------------------------------------------------


def test_student_view_hides_details_of_hidden_criteria():
    student, instructor = (render_html(samples.mixed(), v) for v in ("student", "instructor"))
    assert "Backprop gradients" in student and "0 / 3" in student
    assert "Gradients do not match finite differences." in student
    assert HIDDEN_DETAIL not in student and "max_rel_error" not in student
    assert "Hidden test: its details are not shown." in student
    assert HIDDEN_DETAIL in instructor and "max_rel_error" in instructor


def test_after_due_date_criteria_show_only_their_name_to_students():
    student = render_html(samples.mixed())
    row = next(r for r in student.split("<tr ") if "Final accuracy" in r)
    assert "released after the due date" in row
    assert LATER_FEEDBACK not in student and "accuracy = 0.97" not in student
    assert "3 / 3" not in row and "passed" not in row
    assert "3.5 / 13" in student, "the total must not reveal the withheld points"
    assert "1 criterion (3 points)</strong> released after the due date" in student
    instructor = render_html(samples.mixed(), "instructor")
    assert LATER_FEEDBACK in instructor and "6.5 / 16" in instructor


@pytest.mark.parametrize("later_status", ["passed", "needs_gpu pending", "needs_gpu excluded"])
def test_student_score_matches_the_scorer_without_after_due_date_criteria(later_status):
    from grader.scoring import total_score

    result = samples.mixed()
    status, _, policy = later_status.partition(" ")
    gpu = {
        "points": 0.0,
        "pending": policy == "pending",
        "counts_toward_total": policy == "pending",
    }
    criteria = [
        c.model_copy(update={"status": status, **(gpu if policy else {})})
        if c.visibility == "after_due_date"
        else c
        for c in result.criteria
    ]
    result = result.model_copy(update={"criteria": criteria, "score": total_score(criteria)})
    expected = total_score([c for c in criteria if c.visibility != "after_due_date"])
    shown = build_view(result, "student").score
    assert (shown.points, shown.max_points) == (f"{expected.points:g}", f"{expected.max_points:g}")
    assert shown.pending_points == (
        f"{expected.pending_points:g}" if expected.pending_points else ""
    )
    assert shown.excluded_points == (
        f"{expected.excluded_points:g}" if expected.excluded_points else ""
    )
    assert total_score(samples.mixed().criteria) == samples.mixed().score, "sample is consistent"


def test_viva_questions_and_test_names_are_for_instructors_only():
    result = samples.mixed()
    question = "Derive dL/dW2 for the sigmoid output layer."
    for text in (render_html(result), render_markdown(result)):
        assert question not in text and "hidden/test_" not in text.replace("\\_", "_")
    for text in (render_html(result, "instructor"), render_markdown(result, "instructor")):
        assert question in text and "hidden/test_sigmoid.py::test_sigmoid" in text.replace(
            "\\_", "_"
        )


def test_tampering_flags_are_for_instructors_only():
    flag = "the grader's code inside the kernel was changed or removed: grader.probes.kernel.handle"
    result = samples.mixed().model_copy(update={"flags": [flag, "<script>x</script>"]})
    for text in (render_html(result), render_markdown(result)):
        assert "Flagged for the instructor" not in text and "probes.kernel" not in text
    html = render_html(result, "instructor")
    assert "Flagged for the instructor" in html and "grader.probes.kernel.handle" in html
    assert "<script>x</script>" not in html  # escaped like everything from a result
    assert "grader.probes.kernel.handle" in render_markdown(result, "instructor")


def test_student_view_data_never_holds_hidden_results():
    view = build_view(samples.mixed(), "student")
    hidden = next(c for c in view.criteria if c.name == "Backprop gradients")
    later = next(c for c in view.criteria if c.name.startswith("Final accuracy"))
    assert (hidden.detail, hidden.measured) == ("", [])
    assert (later.points, later.feedback, later.detail, later.measured) == ("", "", "", [])
    assert view.viva_questions == [] and view.submission_details == []
    assert all(c.tests == [] for c in view.criteria)


# -- marks a person gave ------------------------------------------------------------


def test_marks_show_with_their_comments_where_the_rubric_lets_the_student_see():
    result = samples.marked()
    assert total_score(result.criteria) == result.score, "sample is consistent"
    student = render_html(result)
    viva = next(r for r in student.split("<tr ") if "Viva-voce" in r)
    assert "4 / 5" in viva and "marked by the instructor" in viva
    assert samples.VIVA_COMMENT in viva and "Explained why it works." in viva
    writeup = next(r for r in student.split("<tr ") if "Write-up" in r)
    assert "5 / 5" in writeup and samples.WRITEUP_COMMENT not in student  # hidden criterion
    record = next(r for r in student.split("<tr ") if "Lab record" in r)
    assert "awaiting a mark" in record and "— / 5" in record
    assert "5 points awaiting a mark:" in student and "19 / 25" in student
    shapes = next(r for r in student.split("<tr ") if "Layer output shapes" in r)
    assert "adjusted by the instructor" in shapes and samples.OVERRIDE_COMMENT in shapes
    for private in ("The tests said", "float32, expected", "drsmith", "For review", "2: Expl"):
        assert private not in student
    markdown = render_markdown(result)
    assert samples.VIVA_COMMENT in markdown and samples.WRITEUP_COMMENT not in markdown


def test_the_instructor_sees_who_marked_the_machines_verdict_and_marks_to_review():
    html = render_html(result := samples.marked(), "instructor")
    shapes = next(r for r in html.split("<tr ") if "Layer output shapes" in r)
    assert "The tests said: failed, 0 / 3." in shapes and "float32, expected float64" in shapes
    assert "given by drsmith at 2025-03-03T09:00:00+00:00" in shapes
    writeup = next(r for r in html.split("<tr ") if "Write-up" in r)
    assert samples.WRITEUP_COMMENT in writeup and "For review" in writeup
    viva = next(r for r in html.split("<tr ") if "Viva-voce" in r)
    assert "For review" not in viva and "2: Explained what the code does." in viva
    markdown = render_markdown(result, "instructor")
    assert "The tests said" in markdown and samples.WRITEUP_COMMENT in markdown


def test_a_manual_criterion_after_the_due_date_stays_withheld():
    result = samples.marked()
    criteria = [
        c.model_copy(update={"visibility": "after_due_date"}) if c.id == "viva" else c
        for c in result.criteria
    ]
    result = result.model_copy(update={"criteria": criteria})
    view = build_view(result, "student")
    viva = next(c for c in view.criteria if c.name == "Viva-voce")
    assert (viva.points, viva.comment, viva.marker) == ("", "", "")
    assert samples.VIVA_COMMENT not in render_html(result)
    assert (view.score.points, view.score.max_points) == ("15", "20")


def test_unknown_view_is_refused():
    with pytest.raises(ValueError, match="unknown report view"):
        render_html(samples.full_marks(), "teacher")  # type: ignore[arg-type]


# -- templates and files --------------------------------------------------------------


def test_write_reports_writes_three_files(tmp_path):
    paths = write_reports(samples.mixed(), tmp_path / "out")
    assert {k: p.name for k, p in paths.items()} == {
        "html": "report.html",
        "markdown": "report.md",
        "instructor_html": "report.instructor.html",
    }
    student = paths["html"].read_text(encoding="utf-8")
    instructor = paths["instructor_html"].read_text(encoding="utf-8")
    assert HIDDEN_DETAIL not in student and HIDDEN_DETAIL in instructor
    assert paths["markdown"].read_text(encoding="utf-8").startswith("# Backpropagation")


def test_a_course_template_overrides_one_block_and_falls_back_for_the_rest(tmp_path):
    (tmp_path / "report.html.j2").write_text(
        '{% extends "base.html.j2" %}{% block footer %}CSL701 lab, {{ report.title }}{% endblock %}'
    )
    html = render_html(samples.full_marks(), templates_dir=tmp_path)
    assert "CSL701 lab, LeNet-5 on CIFAR-10" in html and "Generated by dlgrader" not in html
    assert render_markdown(samples.full_marks(), templates_dir=tmp_path).startswith("# LeNet-5")


def test_a_course_template_cannot_reach_hidden_results_in_the_student_view(tmp_path):
    (tmp_path / "report.html.j2").write_text(
        "{% for c in report.criteria %}{{ c.detail }}{{ c.measured }}{{ c.feedback }}{% endfor %}"
        "{{ report.viva_questions }}"
    )
    html = render_html(samples.mixed(), templates_dir=tmp_path)
    assert HIDDEN_DETAIL not in html and LATER_FEEDBACK not in html and "Derive" not in html


def test_template_errors_name_the_problem(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="nowhere"):
        render_html(samples.full_marks(), templates_dir=tmp_path / "nowhere")
    (tmp_path / "report.html.j2").write_text("{{ report.no_such_field }}")
    with pytest.raises(ConfigError, match="no_such_field"):
        render_html(samples.full_marks(), templates_dir=tmp_path)
    (tmp_path / "report.md.j2").write_text("{% if %}")
    with pytest.raises(ConfigError, match="report.md.j2"):
        render_markdown(samples.full_marks(), templates_dir=tmp_path)
    monkeypatch.setattr(bundled, "PACKAGE", tmp_path / "gone")
    monkeypatch.setattr(bundled, "CHECKOUT", tmp_path / "gone")
    with pytest.raises(ConfigError, match="gone"):
        render_html(samples.full_marks())
