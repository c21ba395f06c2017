"""Classes of graded students for the export consumer tests.

:func:`adversarial_class` holds every value that has broken a CSV, XML or JSON reader
somewhere: quotes, backslashes (a Windows path before a quote), newlines, commas,
semicolons, tabs, cells starting with ``=``/``+``/``-``/``@``, HTML, non-ASCII and a
1 MB message, in student names and in feedback; and a student with points pending,
one who failed everything, one whose notebook could not be graded, and an
after-the-due-date criterion (samples.mixed() has one).
"""

from __future__ import annotations

from pathlib import Path

from grader.exports import StudentGrade
from grader.report import samples
from grader.results import GradingResult, Score, Submission, TestOutcome
from grader.rubric import load_rubric
from grader.scoring import score_criterion, total_score

ROOT = Path(__file__).resolve().parent.parent

#: Values each at the start of a cell somewhere, and together in one feedback text.
HOSTILE_VALUES = [
    '=HYPERLINK("http://x","click")',
    "+1+2",
    "-3+4",
    "@SUM(A1:A2)",
    'C:\\Users\\bob\\"notebook".ipynb',
    "ends in a backslash \\",
    "line one\nline two\r\nline three",
    "comma, semicolon; tab\there",
    "<script>alert('x')</script><b>bold</b> &amp;",
    'quote " double "" and \' single',
    "naïve ünïcödé 名前 ✓ 🚀",
]
ONE_MEGABYTE = 1_000_000


def adversarial_feedback(index: int) -> str:
    value = HOSTILE_VALUES[index % len(HOSTILE_VALUES)]
    return f"{value} | {' ~ '.join(HOSTILE_VALUES)}"


def _submission(student: str) -> Submission:
    sha = (student.encode().hex() * 64)[:64]
    return Submission(path=f"/s/{student}.ipynb", name=f"{student}.ipynb", sha256=sha, size_bytes=1)


def _as(student: str, result: GradingResult, **update) -> StudentGrade:
    result = result.model_copy(
        update={
            "mode": "grade",
            "submission": _submission(student),
            **update,
        }
    )
    return StudentGrade(student, result)


def _hostile_criteria(result: GradingResult, huge: bool = False) -> list:
    criteria = []
    for index, c in enumerate(result.criteria):
        update = {
            "name": HOSTILE_VALUES[index % len(HOSTILE_VALUES)].replace("\n", " ")[:80],
            "feedback": adversarial_feedback(index),
        }
        if huge and index == 1:
            update["detail"] = "x" * ONE_MEGABYTE
            update["feedback"] = "=" + "y" * ONE_MEGABYTE
        criteria.append(c.model_copy(update=update))
    return criteria


def adversarial_class() -> list[StudentGrade]:
    """One StudentGrade per hostile name, plus the pending, failed and ungradable cases."""
    mixed = samples.mixed()
    full = samples.full_marks()
    grades = []
    for index, value in enumerate(HOSTILE_VALUES):
        name = f"{value[:30]}{index}"
        base = full if index % 2 == 0 else mixed
        grades.append(_as(name, base, criteria=_hostile_criteria(base, huge=index == 1)))
    failed = [c.model_copy(update={"status": "failed", "points": 0.0}) for c in full.criteria]
    grades.append(
        _as(
            "failed-all",
            full,
            criteria=failed,
            score=Score(points=0, max_points=full.score.max_points),
        )
    )
    crash = '=could not run "C:\\nb\\"" <b>x</b>\n' + "z" * ONE_MEGABYTE  # a 1 MB error
    grades.append(_as("ungradable", mixed, grading_error=crash))
    grades.append(_as("pending\tgpu", mixed, criteria=_hostile_criteria(mixed)))
    return grades


def sample_class() -> list[StudentGrade]:
    """The report's samples as a class: full marks, mixed (partial, pending, excluded,
    after the due date), marked by a person, and one that could not be graded."""
    return [
        _as("alice", samples.full_marks()),
        _as("bob", samples.mixed()),
        _as("dan", samples.marked()),
        _as("carol", samples.mixed(), grading_error="the notebook could not be run"),
    ]


def roster_for(grades: list[StudentGrade]) -> list[StudentGrade]:
    """Each student with a roster row carrying the ids Canvas and Moodle match on."""
    return [
        StudentGrade(
            g.student,
            g.result,
            {
                "id": g.student,
                "Student": g.student,
                "ID": str(1000 + n),
                "SIS User ID": f"S{n}",
                "SIS Login ID": f"login{n}",
                "Section": 'Lab, A; "1"',
                "email": f"s{n}@example.edu",
                "idnumber": f"{n:06d}",
                "username": f"user{n}",
            },
        )
        for n, g in enumerate(grades)
    ]


# -- every bundled lab ---------------------------------------------------------------

LABS = sorted(p.stem for p in (ROOT / "rubrics").glob("*.yaml"))
#: How each synthetic student's tests come out: every test of a criterion gets it.
PATTERNS = {
    "all_pass": lambda i: "passed",
    "alternate": lambda i: "passed" if i % 2 == 0 else "failed",
    "errors": lambda i: "error",
}


def lab_class(lab: str) -> list[StudentGrade]:
    """A class for one bundled lab, scored from its rubric by the grader's own scoring:
    all passed, every other criterion failed (band criteria in a partial band), all
    errors, no GPU (the rubric's GPU policy), a manual criterion unmarked where the
    rubric has one, and a notebook that could not be graded."""
    rubric = load_rubric(ROOT / "rubrics" / f"{lab}.yaml", ROOT / "assignments" / lab / "tests")
    base = samples.mixed().model_copy(update={"assignment": lab, "assignment_title": f"{lab} lab"})
    grades = []
    for name, pattern in PATTERNS.items():
        criteria = [_scored(c, pattern(i), gpu=True) for i, c in enumerate(rubric.criteria)]
        grades.append(_as(name, base, criteria=criteria, score=total_score(criteria)))
    for policy in ("exclude", "pending"):
        no_gpu = [_scored(c, "passed", gpu=False, policy=policy) for c in rubric.criteria]
        grades.append(_as(f"no_gpu_{policy}", base, criteria=no_gpu, score=total_score(no_gpu)))
    never = [_scored(c, "not_run", gpu=True) for c in rubric.criteria]
    crashed = "the kernel died (exit code -9)"
    grades.append(
        _as("crashed", base, criteria=never, score=total_score(never), grading_error=crashed)
    )
    return grades


def _scored(criterion, outcome: str, gpu: bool, policy: str = "exclude"):
    if outcome == "not_run":
        return score_criterion(
            criterion, [], gpu_available=gpu, default_policy=policy, tier="offline"
        )
    outcomes = [
        TestOutcome(
            name=test.split("::")[-1],
            file=test.partition("::")[0],
            outcome=outcome,
            message="" if outcome == "passed" else f"{outcome}: expected 1, got 2",
            measured=_partial_value(criterion) if outcome == "failed" else {},
        )
        for test in criterion.tests
    ]
    if criterion.bands and outcome == "passed":
        outcomes = [o.model_copy(update={"measured": _best_value(criterion)}) for o in outcomes]
    return score_criterion(
        criterion, outcomes, gpu_available=gpu, default_policy=policy, tier="offline"
    )


def _partial_value(criterion) -> dict:
    """A measured value in a band worth part of the points, where the criterion has one."""
    bands = (criterion.bands or {}).get("offline", [])
    partial = next((b for b in bands if 0 < b.fraction < 1), None)
    if partial is None:
        return {}
    value = partial.at_least if partial.at_least is not None else partial.at_most
    return {criterion.score_from: value}


def _best_value(criterion) -> dict:
    bands = (criterion.bands or {}).get("offline", [])
    best = max(bands, key=lambda b: b.fraction)
    value = best.at_least if best.at_least is not None else best.at_most
    return {criterion.score_from: value}
