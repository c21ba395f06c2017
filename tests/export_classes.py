"""Classes of graded students for the export consumer tests.

:func:`adversarial_class` holds every value that has broken a CSV, XML or JSON reader
somewhere: quotes, backslashes (a Windows path before a quote), newlines, commas,
semicolons, tabs, cells starting with ``=``/``+``/``-``/``@``, HTML, non-ASCII and a
1 MB message, in student names and in feedback; and a student with points pending,
one who failed everything, one whose notebook could not be graded, and an
after-the-due-date criterion (samples.mixed() has one).
"""

from __future__ import annotations

from grader.exports import StudentGrade
from grader.report import samples
from grader.results import GradingResult, Score, Submission

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
            "assignment": "lenet5",
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
    grades.append(_as("ungradable", mixed, grading_error='could not run "C:\\nb\\"" = 1\n<b>x</b>'))
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
            },
        )
        for n, g in enumerate(grades)
    ]
