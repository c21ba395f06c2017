"""JUnit XML for CI dashboards (GitLab, Jenkins and its xUnit plugin).

JUnit XML has no points field, so scores go into the suite's ``<properties>`` (the
xunit2-safe place; pytest's ``record_testsuite_property`` does the same), with one
``<testcase>`` per criterion: ``<failure>`` for a wrong answer (the feedback is its
message), ``<error>`` when the test could not measure or never ran, ``<skipped>`` for
a criterion waiting for a GPU or for a person's mark.

Jenkins' xUnit plugin validates the file against its ``junit-10.xsd`` and skips a file
that does not validate. That schema allows only ``name``, ``time``, ``tests``,
``failures`` and ``errors`` on ``<testsuites>`` (``skipped`` only on ``<testsuite>``),
so the root carries those totals alone: :data:`ROOT_TOTALS`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.exports.common import (
    ExportOptions,
    Rendered,
    StudentCriterion,
    StudentGrade,
    student_criteria,
    summary_text,
)
from grader.report.text import number

#: The totals ``<testsuites>`` may carry under the xUnit plugin's junit-10.xsd.
ROOT_TOTALS = ("tests", "failures", "errors")
#: The counts of each ``<testsuite>``: the schema allows ``skipped`` there.
SUITE_COUNTS = ("failures", "errors", "skipped")

# XML 1.0 cannot hold most control characters, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def render_junit(grades: list[StudentGrade], options: ExportOptions) -> Rendered:
    """One ``<testsuite>`` per student in one ``<testsuites>`` file."""
    title = options.title or (grades[0].result.assignment_title if grades else "")
    root = ET.Element("testsuites", name=_xml_text(f"dlgrader: {title}"))
    totals = dict.fromkeys(ROOT_TOTALS, 0)
    for grade in grades:
        suite = _suite(grade, options)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode", xml_declaration=True)
    return Rendered(text + "\n")


def _suite(grade: StudentGrade, options: ExportOptions) -> ET.Element:
    result = grade.result
    criteria = student_criteria(result, options.released)
    suite = ET.Element(
        "testsuite",
        name=_xml_text(grade.student),
        time=f"{result.timings.total_s:.3f}",
        timestamp=result.graded_at,
    )
    properties = ET.SubElement(suite, "properties")
    score = result.score
    fields = {
        "assignment": result.assignment,
        "score": number(score.points),
        "max_score": number(score.max_points),
        "pending_points": number(score.pending_points),
        "pending_manual_points": number(score.pending_manual_points),
        "excluded_points": number(score.excluded_points),
    }
    for c in criteria:
        fields[f"points.{c.id}"] = number(c.points)
        fields[f"max_points.{c.id}"] = number(c.max_points)
    for name, value in fields.items():
        ET.SubElement(properties, "property", name=name, value=_xml_text(value))
    counts = dict.fromkeys(SUITE_COUNTS, 0)
    for c in criteria:
        case = ET.SubElement(
            suite, "testcase", classname=_xml_text(f"{result.assignment}.{grade.student}")
        )
        case.set("name", _xml_text(c.name))
        case.set("time", "0")
        outcome = _junit_outcome(c)
        if outcome is not None:
            tag, kind = outcome
            counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[tag]] += 1
            element = ET.SubElement(case, tag, type=kind)
            element.set("message", _xml_text(c.text.partition("\n")[0]))
            element.text = _xml_text(f"{number(c.points)} / {number(c.max_points)}\n{c.text}")
    if result.grading_error:
        ET.SubElement(suite, "system-err").text = _xml_text(summary_text(result))
    suite.set("tests", str(len(criteria)))
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite


def _junit_outcome(c: StudentCriterion) -> tuple[str, str] | None:
    if c.pending and c.manual:
        return "skipped", "awaiting_mark"
    if c.pending or c.excluded:
        return "skipped", "needs_gpu"
    if c.status in ("error", "not_run"):
        return "error", c.status
    if c.status == "released_later":  # its outcome is not shown before the due date
        return "skipped", "released_later"
    if c.status == "passed":
        return None
    return "failure", c.status
