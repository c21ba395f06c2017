"""The platforms' own readers of ``grader export`` files, for tests/test_export_consumers.py.

Each reader is the platform's software where a registry installs it (PHP's ``fgetcsv``
from Debian's php-cli, ``xmllint`` from libxml2-utils, ``junitparser`` from PyPI, node),
or the platform's published rules written out with their source where it does not
(Gradescope, PrairieLearn, Canvas). Every reader raises :class:`Rejected` on a file its
platform would refuse or misread, so each test can also show it failing.

Files that no registry carries (Jenkins xUnit's ``junit-10.xsd``, the Classroom
reporter's JavaScript) are looked up by :func:`consumer_path`; see
``tests/fixtures/consumers/README.md`` for where each comes from.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONSUMER_DIRS = ("tests/fixtures/consumers", "shared/consumers", "../shared/consumers")


class Rejected(AssertionError):
    """The platform would refuse this file, or read it otherwise than meant."""


def consumer_path(name: str) -> Path | None:
    """A consumer file: ``$DLGRADER_CONSUMERS/NAME``, then the folders of CONSUMER_DIRS."""
    folders = [os.environ["DLGRADER_CONSUMERS"]] if os.environ.get("DLGRADER_CONSUMERS") else []
    for folder in [*folders, *(ROOT / d for d in CONSUMER_DIRS)]:
        path = Path(folder) / name
        if path.exists():
            return path
    return None


def need_consumer(name: str) -> Path:
    """A consumer file, or a skip that says where to put it."""
    path = consumer_path(name)
    if path is None:
        pytest.skip(
            f"{name} is missing: place it in tests/fixtures/consumers/ or $DLGRADER_CONSUMERS "
            "(tests/fixtures/consumers/README.md says where it comes from)"
        )
    return path


def need_program(name: str, package: str) -> str:
    """The program's path, or a skip that says which package scripts/setup.sh installs;
    in CI (``CI=true``, where setup.sh runs as root) a missing one is a failure."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is missing: scripts/setup.sh installs it ({package}) as root")
    return path


def missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must have it", pytrace=False)
    pytest.skip(reason)


# -- Moodle: PHP's fgetcsv, called as csv_import_reader calls it -------------------

#: moodle/moodle lib/csvlib.class.php @ cf29c007d2535bb90d623d0fad76ee8075ced722,
#: csv_import_reader::load_csv_content: CRLF -> LF, trim, write to a temporary file,
#: ``fgetcsv($fp, 0, $csv_delimiter, $enclosure)`` until false (a lone null row is an
#: empty line), every row must have the header's column count ("csvweirdcolumns");
#: then the rows are stored with csv_export_writer::print_array (fputcsv) and read back
#: by next() with ``fgetcsv($fp)``. This script makes those calls, in that order.
MOODLE_READER = r"""
$content = file_get_contents('php://stdin');
$content = preg_replace('!\r\n?!', "\n", $content);
$content = trim($content);
$fp = fopen('php://temp', 'w+b');
fwrite($fp, $content);
fseek($fp, 0);
$columns = array();
while ($fgetdata = fgetcsv($fp, 0, ',', '"')) {
    if (count($fgetdata) == 1) {
        if ($fgetdata[0] !== null) { $columns[] = $fgetdata; }
    } else {
        $columns[] = $fgetdata;
    }
}
if (!isset($columns[0])) { echo json_encode(array('error' => 'csvemptyfile')); exit; }
foreach ($columns as $rowdata) {
    if (count($rowdata) !== count($columns[0])) {
        echo json_encode(array('error' => 'csvweirdcolumns', 'columns' => count($rowdata)));
        exit;
    }
}
$store = fopen('php://temp', 'w+');
foreach ($columns as $row) { fputcsv($store, $row, ',', '"'); }
fseek($store, 0);
$rows = array();
while ($row = fgetcsv($store)) { $rows[] = $row; }
echo json_encode(array('rows' => $rows), JSON_INVALID_UTF8_SUBSTITUTE);
"""


def moodle_rows(text: str) -> list[dict[str, str]]:
    """The rows Moodle's grade import gets from ``text``, as header -> value."""
    php = need_program("php", "php-cli")
    run = subprocess.run(
        [php, "-d", "error_reporting=E_ALL & ~E_DEPRECATED", "-r", MOODLE_READER],
        input=text.encode(),
        capture_output=True,
        check=True,
    )
    answer = json.loads(run.stdout)
    if "error" in answer:
        raise Rejected(f"Moodle refuses the file: {answer}")
    header, *rows = answer["rows"]
    return [dict(zip(header, row, strict=True)) for row in rows]


# -- JUnit: xmllint against Jenkins xUnit's schema, and junitparser -----------------

JUNIT_XSD = "junit-10.xsd"


def xunit_validate(xml: Path) -> None:
    """``xmllint --schema junit-10.xsd``: what Jenkins' xUnit plugin checks before reading."""
    xmllint = need_program("xmllint", "libxml2-utils")
    schema = need_consumer(JUNIT_XSD)
    run = subprocess.run(
        [xmllint, "--noout", "--schema", str(schema), str(xml)], capture_output=True, text=True
    )
    if run.returncode != 0:
        raise Rejected(f"junit-10.xsd rejects {xml.name}: {run.stderr[-2000:]}")


def junit_counts(xml: Path) -> dict[str, dict[str, object]]:
    """Each suite's tests, failures, errors, skipped and score as junitparser reads them."""
    try:
        import junitparser
    except ImportError:
        missing("junitparser is missing: scripts/setup.sh installs it (the dev extra)")
    try:
        document = junitparser.JUnitXml.fromfile(str(xml))
    except Exception as exc:  # junitparser raises lxml's or ElementTree's own errors
        raise Rejected(f"junitparser cannot read {xml.name}: {exc}") from exc
    suites = {}
    for suite in document:
        properties = {p.name: p.value for p in suite.properties()}
        outcomes = [type(r).__name__ for case in suite for r in case.result]
        suites[suite.name] = {
            "tests": suite.tests,
            "failures": outcomes.count("Failure"),
            "errors": outcomes.count("Error"),
            "skipped": outcomes.count("Skipped"),
            "score": properties.get("score"),
        }
        if (suite.failures, suite.errors) != (
            suites[suite.name]["failures"],
            outcomes.count("Error"),
        ):
            raise Rejected(f"suite {suite.name!r}: its counts disagree with its test cases")
    return suites


# -- GitHub Classroom: the grading reporter's own JavaScript -------------------------

REPORTER = "autograding-grading-reporter"
_TOTAL_LINE = re.compile(r"Total points for (\w+): ([\d.]+)/([\d.]+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_POINTS = re.compile(r"::notice title=Autograding complete::Points ([\d.]+)/([\d.]+)")


def run_reporter(document: dict) -> dict:
    """Run the reporter's ``src/main.js`` on one export, as the workflow step hands it over
    (``RUNNER_RESULTS`` = base64 JSON, ``runners`` input = the names); what its log shows."""
    node = need_program("node", "nodejs")
    reporter = need_consumer(REPORTER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env.update(encode_results(document), INPUT_RUNNERS=document["runners"])
    run = subprocess.run(
        [node, str(reporter / "src" / "main.js")], env=env, capture_output=True, text=True
    )
    log = _ANSI.sub("", run.stdout + run.stderr)
    points = _POINTS.search(log)
    if points is None:
        raise Rejected(f"the reporter recorded no grade:\n{log[-3000:]}")
    return {
        "runners": {m[0]: (float(m[1]), float(m[2])) for m in _TOTAL_LINE.findall(log)},
        "table_total": _table_total(log),
        "points": (float(points[1]), float(points[2])),
        "failed": "::error::" in log,
        "log": log,
    }


def _table_total(log: str) -> tuple[float, float]:
    row = next(line for line in log.splitlines() if "Total:" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    return float(cells[1]), float(cells[2])


def reporter_arithmetic(document: dict) -> dict[str, tuple[float, float]]:
    """Each runner's points as the reporter's log computes them, for CI without its code:
    classroom-resources/autograding-grading-reporter src/helpers/test-helpers.js
    @ a7fca2576756773caa0675800c6acf55d86b5f9f, getTestScore: passed tests / tests *
    max_score. Raises when that disagrees with the points the runner's tests carry."""
    shown = {}
    for name, result in document["results"].items():
        tests = result["tests"]
        passed = sum(1 for t in tests if t["status"] == "pass")
        log_points = passed / len(tests) * (result["max_score"] or 0)
        real = sum(t["score"] for t in tests)
        if abs(log_points - real) > 1e-9:
            raise Rejected(f"runner {name}: the log shows {log_points}, the grade has {real}")
        shown[name] = (log_points, result["max_score"])
    return shown


def encode_results(document: dict) -> dict[str, str]:
    """The environment the workflow step sets: NAME_RESULTS = base64 of each runner."""
    return {
        f"{name.upper()}_RESULTS": base64.b64encode(json.dumps(r).encode()).decode()
        for name, r in document["results"].items()
    }


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))
