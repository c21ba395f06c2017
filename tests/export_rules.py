"""The published rules by which Gradescope, PrairieLearn and Canvas read an export, and
the rules of Jenkins xUnit's JUnit schema, for CI, which has not the schema file.

None of the three ships its reader in a registry, so each reader here is the rule its
source states, cited at the commit read. Each returns what the platform would show
(statuses, points, one entry per student) and raises :class:`Rejected` where the
platform would refuse the file or show something else than the grade meant.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import xml.etree.ElementTree as ET

from export_consumers import Rejected

# -- Gradescope ----------------------------------------------------------------------
# gradescope/autograder_samples docs/specs.md @ af5dee4cf9b2c930c47dc0e4320c7e5ab2580564
# ("Output format", "Controlling Test Case Visibility", "Test case status",
# "Output String Formatting").

GRADESCOPE_VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")
GRADESCOPE_STATUS = ("passed", "failed")
GRADESCOPE_FORMATS = ("text", "html", "simple_format", "md", "ansi")


def gradescope_read(text: str) -> dict:
    """Score and each test as Gradescope shows it: "score ... Overrides total of tests if
    specified"; a test without ``status`` passes when awarded its ``max_score`` and
    fails below it; ``status`` may only be ``passed`` or ``failed``."""
    doc = _json(text)
    tests = doc.get("tests", [])
    if "score" not in doc and any("score" not in t for t in tests):
        raise Rejected("no top-level score and a test without one")
    for key in ("output_format", "test_output_format", "test_name_format"):
        if key in doc and doc[key] not in GRADESCOPE_FORMATS:
            raise Rejected(f"{key} {doc[key]!r} is not a Gradescope format")
    shown = []
    for test in tests:
        if test.get("visibility", "visible") not in GRADESCOPE_VISIBILITY:
            raise Rejected(f"visibility {test['visibility']!r} is not Gradescope's")
        status = test.get("status")
        if status is not None and status not in GRADESCOPE_STATUS:
            raise Rejected(f"status {status!r}: Gradescope knows only passed and failed")
        score, max_score = _number(test, "score"), _number(test, "max_score")
        if status is None:
            status = "passed" if score >= max_score else "failed"
        shown.append({**test, "shown": status})
    score = _number(doc, "score") if "score" in doc else sum(_number(t, "score") for t in tests)
    return {"score": score, "tests": shown, "output": doc.get("output", "")}


# -- PrairieLearn --------------------------------------------------------------------
# PrairieLearn/PrairieLearn docs/externalGrading.md @ 06a6d5902f182e78b607eacd0819be493759b9d0
# ("Grading results"): score in [0.0, 1.0] unless not gradable; gradable false awards and
# costs nothing; format_errors a string or an array of strings; the file limited to 1 MB.
# apps/prairielearn/elements/pl-external-grader-results/pl-external-grader-results.py
# @ 0a126d86c88d5dd350ebd2106a4cfebd86d62dfb: a test without points or max_points
# turns per-test points off for all; 0/0 shows as information, points != max_points red.

PRAIRIELEARN_LIMIT = 1_000_000


def prairielearn_read(text: str) -> dict:
    if len(text.encode("utf-8")) > PRAIRIELEARN_LIMIT:
        raise Rejected("over 1 MB: PrairieLearn discards the results")
    doc = _json(text)
    gradable = doc.get("gradable", True)
    if not isinstance(gradable, bool):
        raise Rejected(f"gradable is {gradable!r}, not a boolean")
    if not gradable:
        errors = doc.get("format_errors", [])
        errors = [errors] if isinstance(errors, str) else errors
        if not all(isinstance(e, str) for e in errors):
            raise Rejected("format_errors must be a string or an array of strings")
        return {"gradable": False, "format_errors": errors}
    score = doc.get("score")
    if not isinstance(score, int | float) or isinstance(score, bool) or not 0 <= score <= 1:
        raise Rejected(f"score {score!r} is not a number in [0, 1]")
    tests = doc.get("tests", [])
    if any(t.get("points") is None or t.get("max_points") is None for t in tests):
        raise Rejected("a test lacks points or max_points: per-test points are turned off")
    shown = [
        {**t, "shown": _pl_icon(t["points"], t["max_points"])}
        for t in tests  # the element's colours
    ]
    return {
        "gradable": True,
        "score": score,
        "points": sum(t["points"] for t in tests),
        "max_points": sum(t["max_points"] for t in tests),
        "tests": shown,
    }


def _pl_icon(points: float, max_points: float) -> str:
    rounded = f"{max_points:.2f}".rstrip("0").rstrip(".")
    if rounded == "0":
        return "info"
    return "correct" if f"{points:.2f}" == f"{max_points:.2f}" else "incorrect"


# -- Canvas --------------------------------------------------------------------------
# instructure/canvas-lms lib/gradebook_importer.rb @ 2702e63b45265cb3b0fb3d940cd8bd5af5711cd1
# (parse!, process_header, process_student): the header's first cell matches /Student/,
# the second /ID/, and with SIS columns the third /SIS\s+User\s+ID/, the fourth
# /SIS\s+Login\s+ID/ and the fifth /Section/; a row whose first cell matches
# /Points Possible/ is the points row; a row of blank or "Muted" cells is skipped;
# a student is found by ID, then SIS User ID, then SIS Login ID; an assignment column
# "Title (id)" is matched by id (Assignment.title_and_id).

CANVAS_TITLE_AND_ID = re.compile(r"\A(.*)\s\((\d+)\)\Z", re.S)


def canvas_read(text: str) -> dict:
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise Rejected(f"Canvas's CSV parser refuses it: {exc}") from exc
    if not rows:
        raise Rejected("empty file")
    header = rows[0]
    sis = (
        len(header) >= 5
        and re.search(r"SIS\s+User\s+ID", header[2])
        and re.search(r"SIS\s+Login\s+ID", header[3])
        and re.search("Section", header[4])
    )
    if not (re.search("Student", header[0]) and re.search("ID", header[1]) and sis):
        raise Rejected(f"Couldn't find header row: {header[:5]}")
    titles = [_title_and_id(name) for name in header[5:]]
    points_possible, students = None, {}
    for row in rows[1:]:
        if len(row) != len(header):
            raise Rejected(f"a row of {len(row)} cells under a header of {len(header)}")
        if re.search("Points Possible", row[0]):
            points_possible = row[5:]
            continue
        if all(re.fullmatch(r"(?i)\s*(muted|)\s*", c) for c in row):
            continue
        key = next((row[i] for i in (1, 2, 3) if row[i].strip()), None)
        if key is None:
            raise Rejected(f"row {row[:5]} names no ID, SIS User ID or SIS Login ID")
        if key in students:
            raise Rejected(f"two rows for {key!r}")
        students[key] = row[5:]
    return {"assignments": titles, "points_possible": points_possible, "students": students}


def _title_and_id(name: str) -> tuple[str, str | None]:
    match = CANVAS_TITLE_AND_ID.match(name)
    return (match[1], match[2]) if match else (name, None)


def _json(text: str) -> dict:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Rejected(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise Rejected("not a JSON object")
    return doc


def _number(container: dict, key: str) -> float:
    value = container.get(key, 0.0)
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise Rejected(f"{key} {value!r} is not a number")
    return float(value)


# -- JUnit (Jenkins xUnit) ----------------------------------------------------------------
# jenkinsci/xunit-plugin src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/
# junit-10.xsd @ ae25da5089d4f94ac6c4669bf736e4d416cc4665: the elements, their attributes
# (required ones first) and children, restated so CI checks them without the schema file;
# xmllint with the schema itself runs where the file is (tests/fixtures/consumers/).

SUREFIRE_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?")
_OUTCOME = ((), {"type", "message"}, set())
JUNIT_ELEMENTS = {  # element: (required attributes, allowed attributes, allowed children)
    "testsuites": ((), {"name", "time", "tests", "failures", "errors"}, {"testsuite"}),
    "testsuite": (
        ("name", "tests", "failures", "errors"),
        {"group", "time", "skipped", "timestamp", "hostname", "id", "package", "file", "log"}
        | {"url"},
        {"testsuite", "properties", "testcase", "system-out", "system-err"},
    ),
    "properties": ((), set(), {"property"}),
    "property": (("name", "value"), set(), set()),
    "testcase": (
        ("name",),
        {"time", "classname", "group"},
        {"skipped", "error", "failure", "system-out", "system-err"}
        | {"rerunFailure", "rerunError", "flakyFailure", "flakyError"},
    ),
    "failure": _OUTCOME,
    "error": _OUTCOME,
    "skipped": _OUTCOME,
    "system-out": ((), set(), set()),
    "system-err": ((), set(), set()),
}


def junit_schema_rules(text: str) -> None:
    """Raise where junit-10.xsd would reject the document (the rules above)."""
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        raise Rejected(f"not XML: {exc}") from exc
    if root.tag not in ("testsuites", "testsuite"):
        raise Rejected(f"root <{root.tag}> is neither testsuites nor testsuite")
    for element in root.iter():
        if element.tag not in JUNIT_ELEMENTS:
            raise Rejected(f"<{element.tag}> is not in junit-10.xsd")
        required, optional, children = JUNIT_ELEMENTS[element.tag]
        attributes = set(element.attrib)
        if not set(required) <= attributes or not attributes <= {*required, *optional}:
            raise Rejected(f"<{element.tag}> has attributes {sorted(attributes)}")
        if "time" in attributes and element.tag.startswith("testsuite"):
            if not SUREFIRE_TIME.fullmatch(element.get("time", "")):
                raise Rejected(f"<{element.tag} time={element.get('time')!r}>")
        for child in element:
            if child.tag not in children:
                raise Rejected(f"<{child.tag}> may not be inside <{element.tag}>")
