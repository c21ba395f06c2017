"""What makes an assignment valid, judged from grading its solution and its stub.

The reference solution must get full marks (GPU criteria may be excluded or pending
on a machine without one); the stub must fail every criterion that needs student code.
"""

from __future__ import annotations

from grader.course import Assignment
from grader.results import GradingResult


def validation_problems(
    assignment: Assignment, solution: GradingResult, stub: GradingResult
) -> list[str]:
    """What is wrong with an assignment, judged from grading its solution and its stub."""
    issues = [f"solution: {r.grading_error}" for r in (solution,) if r.grading_error]
    issues += [f"stub: {r.grading_error}" for r in (stub,) if r.grading_error]
    for c in solution.criteria:
        if c.status not in ("passed", "needs_gpu", "pending"):
            issues.append(f"solution fails '{c.id}': {c.status} {c.detail}".rstrip())
    needs_code = {c.id for c in assignment.rubric.criteria if c.student_code}
    for c in stub.criteria:
        if c.id in needs_code and c.status not in ("failed", "error", "not_run", "needs_gpu"):
            issues.append(f"stub passes '{c.id}' ({c.status}), which needs student code")
    return issues
