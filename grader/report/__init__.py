"""Feedback reports (HTML and Markdown) rendered from a results document."""

from grader.report.render import render_html, render_markdown, write_reports

__all__ = ["render_html", "render_markdown", "write_reports"]
