"""Render the feedback reports (HTML and Markdown) from a results document.

Our templates ship with the grader (:func:`grader.bundled.templates_dir`: inside the
installed package, or the repository's top-level ``templates/`` in a checkout); a course can
put its own ``templates/`` folder first (``templates_dir``) and override any one
of them, falling back to ours for the rest. Templates get a
:class:`~grader.report.view.ReportView`, already cut down to what the chosen
audience may see, so an overriding template cannot leak hidden results.

HTML is rendered with autoescape always on: student text (file names, error
messages, tracebacks) is untrusted. Markdown has no such engine support, so its
template uses the ``md_*`` filters from :mod:`grader.report.text`.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from grader.bundled import templates_dir as default_templates
from grader.errors import ConfigError
from grader.report.text import md_cell, md_fence, md_inline
from grader.report.view import View, build_view
from grader.results import GradingResult

HTML_TEMPLATE = "report.html.j2"
MARKDOWN_TEMPLATE = "report.md.j2"

REPORT_FILES = {
    "html": "report.html",
    "markdown": "report.md",
    "instructor_html": "report.instructor.html",
}


def render_html(
    result: GradingResult, view: View = "student", templates_dir: Path | str | None = None
) -> str:
    """The report as one self-contained HTML page (figures are relative ``<img>`` links)."""
    return _render(_environment(templates_dir, html=True), HTML_TEMPLATE, result, view)


def render_markdown(
    result: GradingResult, view: View = "student", templates_dir: Path | str | None = None
) -> str:
    """The report as GitHub-flavoured Markdown, every piece of student text neutralised."""
    return _render(_environment(templates_dir, html=False), MARKDOWN_TEMPLATE, result, view)


def write_reports(
    result: GradingResult, out_dir: Path | str, templates_dir: Path | str | None = None
) -> dict[str, Path]:
    """Write report.html and report.md (student view) and report.instructor.html.

    ``out_dir`` is the folder the figures were saved in: their paths are relative to it.
    Returns the written paths keyed "html", "markdown" and "instructor_html".
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "html": render_html(result, "student", templates_dir),
        "markdown": render_markdown(result, "student", templates_dir),
        "instructor_html": render_html(result, "instructor", templates_dir),
    }
    written: dict[str, Path] = {}
    for key, text in texts.items():
        path = out / REPORT_FILES[key]
        path.write_text(text, encoding="utf-8")
        written[key] = path
    return written


def template_folders(templates_dir: Path | str | None = None) -> list[Path]:
    """The folders searched for templates, the course's own first."""
    ours = default_templates()
    folders = [ours]
    if templates_dir is not None:
        course = Path(templates_dir)
        if not course.is_dir():
            raise ConfigError(f"report templates folder {course} does not exist")
        if course.resolve() != ours.resolve():
            folders.insert(0, course)
    return folders


def _environment(templates_dir: Path | str | None, html: bool) -> jinja2.Environment:
    return _environment_for(tuple(template_folders(templates_dir)), html)


@functools.lru_cache(maxsize=16)
def _environment_for(folders: tuple[Path, ...], html: bool) -> jinja2.Environment:
    """One environment per template folders: a batch worker renders hundreds of reports,
    and Jinja2 then compiles each template once (it still reloads a changed file)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in folders]),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md_inline=md_inline, md_cell=md_cell, md_fence=md_fence)
    return env


def _render(env: jinja2.Environment, name: str, result: GradingResult, view: View) -> str:
    report = build_view(result, view)
    try:
        return env.get_template(name).render(report=report)
    except jinja2.TemplateNotFound as exc:
        loader = env.loader
        folders = getattr(loader, "searchpath", [])
        raise ConfigError(
            f"report template {exc.name} not found in {', '.join(map(str, folders))}"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(
            f"report template {exc.filename or exc.name}, line {exc.lineno}: {exc.message}"
        ) from None
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"report template {name}: {exc.message}") from None
