"""Example results documents for previewing report templates.

A course that overrides a template should see it render the awkward cases too:
a GPU criterion pending, hidden and after-the-due-date criteria, a cell error,
marks a person gave (one for review, one pending, an override), and a submission
whose name and error text try to inject HTML, Markdown and terminal escapes. The
report tests render these same documents.
"""

from __future__ import annotations

from grader.results import (
    CellError,
    CriterionResult,
    Environment,
    Execution,
    Figure,
    GradingResult,
    Level,
    MachineVerdict,
    ManualMark,
    Score,
    Submission,
    Timings,
)

SCRIPT_PAYLOAD = "<script>document.title='pwned';document.body.dataset.pwned='script'</script>"
IMG_PAYLOAD = "<img src=x onerror=\"document.body.dataset.pwned='img'\">"
ANSI_RED = "\x1b[0;31m"
ANSI_RESET = "\x1b[0m"
FENCE_BREAKER = "```\n# Injected heading\n````"


def environment(**overrides) -> Environment:
    fields = {
        "python": "3.11.9",
        "platform": "Linux-6.1-x86_64",
        "grader_version": "0.1.0",
        "packages": {"torch": "2.13.0", "numpy": "2.1.0"},
        "device": "cpu",
        "runner": "local",
        "sandbox": "bwrap",
        "network_blocked": True,
        "filesystem_private": True,
        "memory_limit_mb": 4096,
        "cpu_limit_s": 600,
    }
    return Environment(**{**fields, **overrides})


def criterion(id: str, status: str, points: float, max_points: float, **extra) -> CriterionResult:
    fields = {
        "name": id.replace("_", " ").capitalize(),
        "tests": [f"hidden/test_{id}.py::test_{id}"],
        "feedback": f"Feedback for {id}.",
    }
    return CriterionResult(
        id=id, status=status, points=points, max_points=max_points, **{**fields, **extra}
    )


def full_marks() -> GradingResult:
    """Every criterion passed, no errors, one figure."""
    criteria = [
        criterion(
            "param_count",
            "passed",
            4,
            4,
            name="Parameter count",
            feedback="LeNet-5 has 62,006 parameters.",
            measured={"total": 62006},
        ),
        criterion(
            "shapes",
            "passed",
            3,
            3,
            name="Layer output shapes",
            feedback="Every layer has the expected shape.",
        ),
        criterion(
            "accuracy",
            "passed",
            3,
            3,
            name="Held-out accuracy",
            feedback="Accuracy is above the benchmark.",
            measured={"accuracy": 0.9812},
        ),
    ]
    return GradingResult(
        assignment="lenet5",
        assignment_title="LeNet-5 on CIFAR-10",
        submission=Submission(
            path="/subs/alice.ipynb", name="alice.ipynb", sha256="a" * 64, size_bytes=20_480
        ),
        graded_at="2025-03-01T10:00:00+00:00",
        data_tier="full",
        score=Score(points=10, max_points=10),
        criteria=criteria,
        execution=Execution(
            cells_total=12,
            cells_run=12,
            duration_s=41.5,
            figures=[Figure(cell=9, path="figures/cell9_1.png", width=640, height=480)],
        ),
        environment=environment(),
        timings=Timings(total_s=63.2, execute_s=41.5, tests_s=18.0),
        viva_questions=["Why does the first convolution have 456 parameters?"],
    )


def mixed() -> GradingResult:
    """Partial credit, a failure, a cell error, a GPU criterion pending, one excluded,
    a hidden criterion and one released after the due date; check mode."""
    criteria = [
        criterion("sigmoid", "passed", 2, 2, name="sigmoid", feedback="sigmoid is stable."),
        criterion(
            "loss",
            "partial",
            1.5,
            3,
            name="Loss decreases",
            feedback="The loss falls, but slowly.",
            detail="loss fell by 12% over 50 steps (expected at least 50%)",
            measured={"loss_drop": 0.1234567, "steps": 50},
        ),
        criterion(
            "backprop",
            "failed",
            0,
            3,
            name="Backprop gradients",
            feedback="Gradients do not match finite differences.",
            detail="max relative error 0.31 on W2",
            visibility="hidden",
            measured={"max_rel_error": 0.31},
        ),
        criterion(
            "xor",
            "error",
            0,
            2,
            name="XOR training",
            feedback="train() raised an error.",
            detail="NameError: name 'lr' is not defined",
        ),
        criterion(
            "gpu_speed",
            "needs_gpu",
            0,
            2,
            name="Runs on the GPU",
            feedback="Needs a GPU, which this grading machine lacks: pending until graded "
            "on a GPU.",
            counts_toward_total=True,
            pending=True,
            requires_gpu=True,
        ),
        criterion(
            "gpu_mem",
            "needs_gpu",
            0,
            1,
            name="GPU memory use",
            feedback="Needs a GPU, which this grading machine lacks: excluded from the total.",
            counts_toward_total=False,
            requires_gpu=True,
        ),
        criterion(
            "final_acc",
            "passed",
            3,
            3,
            name="Final accuracy (secret band)",
            feedback="Accuracy met the top band.",
            detail="accuracy = 0.97 (full data)",
            measured={"accuracy": 0.97},
            visibility="after_due_date",
        ),
        criterion(
            "plots",
            "not_run",
            0,
            1,
            name="Training plots",
            feedback="Plot the loss curve.",
            detail="not run: the kernel stopped at cell 8",
        ),
    ]
    return GradingResult(
        assignment="backprop",
        assignment_title="Backpropagation from scratch",
        mode="check",
        submission=Submission(
            path="/subs/bob.ipynb", name="bob.ipynb", sha256="b" * 64, size_bytes=9_000
        ),
        graded_at="2025-03-01T11:00:00+00:00",
        data_tier="offline",
        # points: 2 + 1.5 + 3; max: all counting criteria (pending included, 1 excluded).
        score=Score(points=6.5, max_points=16, pending_points=2, excluded_points=1),
        criteria=criteria,
        execution=Execution(
            cells_total=10,
            cells_run=8,
            duration_s=12.25,
            stopped_at_cell=8,
            stop_reason="the cell ran past its 60 s time limit",
            errors=[
                CellError(
                    cell=5,
                    execution_count=5,
                    ename="NameError",
                    evalue="name 'lr' is not defined",
                    traceback="Traceback (most recent call last):\n"
                    "  Cell In[5], line 3\n    W -= lr * grad\n"
                    "NameError: name 'lr' is not defined",
                    source="def train(X, y):\n    W -= lr * grad",
                )
            ],
        ),
        environment=environment(sandbox="none", network_blocked=False, filesystem_private=False),
        timings=Timings(total_s=30.0, execute_s=12.25, tests_s=15.5),
        warnings=["no sandbox: student code ran with the grader's own permissions"],
        viva_questions=[
            "Derive dL/dW2 for the sigmoid output layer.",
            "Why does XOR need a hidden layer?",
        ],
    )


VIVA_COMMENT = "Explained the chain rule; unsure about the bias gradient."
WRITEUP_COMMENT = "Plot discussed, no conclusion."  # hidden criterion: instructor only
OVERRIDE_COMMENT = "The test tripped on a float32 cast; the maths is right."
VIVA_LEVELS = [
    Level(points=0, text="Could not explain the code."),
    Level(points=2, text="Explained what the code does."),
    Level(points=4, text="Explained why it works."),
    Level(points=5, text="Also answered the follow-up questions."),
]


def marked() -> GradingResult:
    """Marks a person gave: a viva (visible), a write-up (hidden, for review because
    the notebook changed since), a lab record not marked yet, and an override."""
    result = full_marks()
    sha = result.submission.sha256
    machine = MachineVerdict(
        status="failed",
        points=0,
        feedback="Every layer has the expected shape.",
        detail="conv1 output is float32, expected float64",
    )
    mark = ManualMark(
        points=3, comment=OVERRIDE_COMMENT, by="drsmith", at="2025-03-03T09:00:00+00:00", sha256=sha
    )
    criteria = [
        c.model_copy(update={"mark": mark, "machine": machine}) if c.id == "shapes" else c
        for c in result.criteria
    ]
    criteria += [
        criterion(
            "viva",
            "partial",
            4,
            5,
            name="Viva-voce",
            tests=[],
            feedback="Explained why it works.",
            manual=True,
            levels=VIVA_LEVELS,
            mark=ManualMark(
                points=4,
                comment=VIVA_COMMENT,
                by="drsmith",
                at="2025-03-02T09:00:00+00:00",
                sha256=sha,
            ),
        ),
        criterion(
            "writeup",
            "passed",
            5,
            5,
            name="Write-up",
            tests=[],
            feedback="",
            visibility="hidden",
            manual=True,
            mark=ManualMark(
                points=5,
                comment=WRITEUP_COMMENT,
                by="ta1",
                at="2025-03-02T10:00:00+00:00",
                sha256="0" * 64,
                review=True,
            ),
        ),
        criterion(
            "record",
            "pending",
            0,
            5,
            name="Lab record",
            tests=[],
            feedback="Not marked yet: a person marks this criterion.",
            manual=True,
            pending=True,
        ),
    ]
    score = Score(points=19, max_points=25, pending_points=5, pending_manual_points=5)
    return result.model_copy(update={"criteria": criteria, "score": score})


def hostile() -> GradingResult:
    """A submission whose name, error text and traceback try to inject markup."""
    result = mixed()
    evil_text = f"{SCRIPT_PAYLOAD} {IMG_PAYLOAD} | `tick` *bold* [link](javascript:alert(1))"
    error = CellError(
        cell=3,
        execution_count=3,
        ename=f"Evil{SCRIPT_PAYLOAD}Error",
        evalue=f"{ANSI_RED}boom{ANSI_RESET} {evil_text} — naïve ünïcödé ✓",
        traceback=f"{ANSI_RED}Traceback{ANSI_RESET}\n{FENCE_BREAKER}\n{SCRIPT_PAYLOAD}\n"
        f"{IMG_PAYLOAD}\n\x1b]0;set-title\x07\u202egnp.exe",
        source=f"print('{SCRIPT_PAYLOAD}')\n{FENCE_BREAKER}",
    )
    criteria = [
        c.model_copy(
            update={
                "name": "Loss <b>decreases</b> | `fast`",
                "feedback": "The loss | falls ` slowly ``` | |",
                "detail": f"{evil_text}\n{FENCE_BREAKER}",
                "measured": {"note": SCRIPT_PAYLOAD},
            }
        )
        if c.id == "loss"
        else c
        for c in result.criteria
    ]
    packages = {**result.environment.packages, "evil|pkg": SCRIPT_PAYLOAD}
    return result.model_copy(
        update={
            "submission": Submission(
                path="/subs/x.ipynb",
                name=f"{SCRIPT_PAYLOAD}{IMG_PAYLOAD}.ipynb",
                sha256="c" * 64,
                size_bytes=1,
            ),
            "criteria": criteria,
            "execution": result.execution.model_copy(update={"errors": [error]}),
            "warnings": [f"{IMG_PAYLOAD} warning"],
            "environment": result.environment.model_copy(update={"packages": packages}),
        }
    )
