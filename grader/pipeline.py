"""Grade one submission: read -> prepare -> execute -> test -> score -> write.

Whatever the submission does (raise, hang, kill its kernel, be unreadable),
:func:`grade` returns a :class:`GradingResult`; only a broken course or a
machine that cannot start kernels leaves ``grading_error`` set. Results come
only from this process: nothing the kernel writes is read back as a result.
"""

from __future__ import annotations

import importlib.metadata
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from nbformat import NotebookNode

from grader import __version__, integrity, numerics
from grader.config import Limits
from grader.course import Assignment
from grader.errors import SubmissionError
from grader.execute import CapturedFigure, run_notebook
from grader.notebook import names_used, prepare, read_submission, sha256, skip_cells
from grader.results import (
    Environment,
    Execution,
    Figure,
    GradingResult,
    SkippedCell,
    Submission,
    TestOutcome,
    Timings,
)
from grader.runners.base import Enforcement, Runner
from grader.runners.local import LocalRunner
from grader.runners.zygote import Recipe
from grader.scoring import score_criterion, total_score
from grader.testing.failures import TestsDidNotRun, check_every_criterion_ran
from grader.testing.plugin import run_tests

Mode = Literal["grade", "check"]
PACKAGES = ("numpy", "torch", "tensorflow-cpu", "tensorflow", "keras", "scikit-learn")


@dataclass
class GradingRun:
    """The result, plus the figures that still have to be written beside it."""

    result: GradingResult
    figures: list[CapturedFigure] = field(default_factory=list)


def grade(
    assignment: Assignment,
    notebook: Path,
    *,
    mode: Mode = "grade",
    runner: Runner | None = None,
    on_cell: Callable[[int, int], None] | None = None,
    problem: str | None = None,
    notes: Sequence[str] = (),
) -> GradingRun:
    """Grade ``notebook`` against ``assignment``; never raises for the submission's faults.

    ``problem`` says why the file cannot be graded at all (not a notebook, an archive that
    cannot be unpacked safely): the result is then a zero row marked not gradable, with
    that reason, and no kernel starts. ``notes`` go into the report's warnings (what
    unpacking the student's archive left out).
    """
    started = time.monotonic()
    runner = runner or LocalRunner()
    limits = assignment.config.limits
    rubric = assignment.rubric
    # A self-check runs the public tests; criteria a person marks wait for grading proper.
    criteria = [
        c for c in rubric.criteria if mode == "grade" or (not c.manual and _public(c.tests))
    ]
    tier = data_tier(assignment)
    enforcement = runner.enforcement(limits)
    settings, quota = assignment.config.numerics, enforcement.cpu_quota
    outcomes: list[TestOutcome] = []
    flags: list[str] = []
    limits_hit: list[str] = []
    execution: Execution | None = None
    figures: list[CapturedFigure] = []
    tests_s = 0.0
    machinery_error: str | None = None
    try:
        if problem is not None:
            raise SubmissionError(f"{notebook.name}: {problem}")
        nb, raw = read_submission(notebook)
        grading_error = None
    except SubmissionError as exc:
        nb, raw, grading_error = None, _bytes_of(notebook), str(exc)
        enforcement = None
    if nb is not None:
        files = sorted(
            {assignment.tests_root / t.partition("::")[0] for c in criteria for t in c.tests}
        )
        prepared = prepare(nb, assignment.config.grading_parameters)
        recovery = assignment.config.recovery
        skipped: list[SkippedCell] = []
        try:
            for replay in range(recovery.replays + 1):
                with (
                    runner.session(
                        limits,
                        kernel_variables(assignment, tier, quota),
                        assignment.data_folder,
                        submission=notebook,
                    ) as session,
                    run_notebook(
                        prepared,
                        session,
                        limits,
                        on_cell=on_cell,
                        preamble=numerics.preamble(settings, assignment.config.framework, quota),
                    ) as run,
                ):
                    enforcement = session.enforcement
                    execution, figures = run.execution, run.figures
                    execution.skipped_cells = list(skipped)
                    if run.fatal_cell is not None and replay < recovery.replays:
                        # A cell killed the kernel or would not stop: run the notebook again
                        # in a fresh kernel without it, so the cells before it still count.
                        skipped.append(
                            SkippedCell(cell=run.fatal_cell, reason=execution.stop_reason or "")
                        )
                        prepared = skip_cells(prepared, run.fatal_cell, recovery.after_fatal_cell)
                        continue
                    # The cells are done: a batch worker starts its next kernel while tests run.
                    session.prepare_next()
                    context = grading_context(
                        assignment, nb, tier, gpu_available=enforcement.gpu_available, mode=mode
                    )
                    outcomes, tests_s = run_tests(files, run.bridge, context, assignment.tests_root)
                    if not execution.stop_reason:
                        check_every_criterion_ran(criteria, outcomes)
                    flags = integrity.collect(nb, assignment.name, run.bridge)
                    limits_hit = explain_breaches(session.breaches(), limits, execution)
                    break
        except TestsDidNotRun as exc:  # the grader's fault: an error to fix, not a score
            grading_error = machinery_error = str(exc)
        except Exception as exc:  # noqa: BLE001 - the kernel could not start or be driven
            grading_error = f"the notebook could not be run: {type(exc).__name__}: {exc}"[:1000]

    gpu = bool(enforcement and enforcement.gpu_available)
    stop = execution.stop_reason if execution else grading_error
    scored = [
        score_criterion(
            c,
            outcomes,
            gpu_available=gpu,
            default_policy=rubric.gpu_policy,
            tier=tier,
            stopped_reason=stop,
            tests_did_not_run=machinery_error,
        )
        for c in criteria
    ]
    result = GradingResult(
        assignment=assignment.name,
        assignment_title=assignment.config.title,
        mode=mode,
        submission=Submission(
            path=str(notebook), name=notebook.name, sha256=sha256(raw), size_bytes=len(raw)
        ),
        graded_at=_now(),
        data_tier=tier,
        score=total_score(scored),
        criteria=scored,
        execution=execution,
        environment=environment(
            enforcement, numerics.describe(settings, assignment.config.framework, quota)
        ),
        timings=Timings(
            total_s=round(time.monotonic() - started, 3),
            execute_s=execution.duration_s if execution else 0.0,
            tests_s=round(tests_s, 3),
        ),
        warnings=(list(enforcement.warnings) if enforcement else []) + limits_hit + list(notes),
        not_gradable=nb is None,
        flags=flags,
        viva_questions=assignment.config.viva_questions,
        grading_error=grading_error,
    )
    return GradingRun(result, figures)


def grading_context(
    assignment: Assignment,
    nb: NotebookNode,
    tier: str | None,
    *,
    gpu_available: bool,
    mode: Mode = "grade",
) -> dict[str, Any]:
    """What the tests' ``nb`` knows besides the kernel: tier, GPU, the declared interface,
    and the names the notebook's own cells use (read from its source, here)."""
    return {
        "tier": tier,
        "gpu_available": gpu_available,
        "mode": mode,
        "interface_defaults": assignment.config.interface.defaults(),
        "notebook_names": frozenset(names_used(nb)),
    }


def explain_breaches(breaches: list[str], limits: Limits, execution: Execution | None) -> list[str]:
    """Name the limits the kernel ran into, in the stop reason when they stopped it."""
    sizes = {
        "memory limit": f"memory limit ({limits.memory_mb} MB)",
        "process limit": f"process limit ({limits.processes} processes and threads)",
    }
    named = [sizes.get(b, b) for b in breaches]
    if not named:
        return []
    if execution is not None and execution.stop_reason:
        execution.stop_reason += f" (it reached the {' and the '.join(named)})"
    return [f"the notebook reached the {name}" for name in named]


def _public(tests: list[str]) -> bool:
    return all(t.startswith("public/") for t in tests)


def data_tier(assignment: Assignment) -> str | None:
    """Which data tier the notebook will see: ``full`` when the dataset is cached."""
    if not assignment.config.dataset:
        return None
    from grader import datasets

    return datasets.tier(assignment.config.dataset)


def kernel_env(tier: str | None) -> dict[str, str]:
    """Tell the kernel which tier the grader judges, so both sides use the same data."""
    if tier is None:
        return {}
    from grader import datasets

    env = {datasets.TIER_ENV: tier}
    found = datasets.data_dirs()
    if tier == "full" and found:
        env["GRADER_DATA"] = str(found[0])
    return env


def kernel_variables(assignment: Assignment, tier: str | None, quota: float | None) -> dict:
    """What a grading's kernel is started with besides its clean environment."""
    return {**kernel_env(tier), **numerics.kernel_variables(assignment.config.numerics, quota)}


def warm_up(assignment: Assignment, runner: Runner) -> None:
    """Start the kernel that ``runner``'s next grading of ``assignment`` will take.

    A batch worker does this when it joins a batch, while the batch is still handing out
    its first submissions, so its first grading starts warm like the rest; a runner
    without a kernel pool starts nothing.
    """
    limits = assignment.config.limits
    quota = runner.enforcement(limits).cpu_quota
    variables = kernel_variables(assignment, data_tier(assignment), quota)
    runner.warm_up(limits, variables, assignment.data_folder)


def zygote_recipe(assignment: Assignment, runner: Runner) -> Recipe | None:
    """What the zygote of ``runner``'s kernels for ``assignment`` is made of, as a batch
    worker's pool would make it; None where its kernels are not forked from one."""
    if not isinstance(runner, LocalRunner):
        return None
    quota = runner.enforcement(assignment.config.limits).cpu_quota
    return runner.zygote_recipe(kernel_variables(assignment, data_tier(assignment), quota))


def _bytes_of(notebook: Path) -> bytes:
    """The raw bytes for the hash of a file that is not a readable notebook."""
    try:
        return notebook.read_bytes()
    except OSError:
        return b""


def environment(enforcement: Enforcement | None, numerics_used: dict | None = None) -> Environment:
    """Versions and confinement of the grading environment, without importing frameworks."""
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    gpu = bool(enforcement and enforcement.gpu_available)
    return Environment(
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.machine()}",
        grader_version=__version__,
        packages=packages,
        device="cuda" if gpu else "cpu",
        gpu_available=gpu,
        runner=enforcement.runner if enforcement else "none",
        sandbox=enforcement.sandbox if enforcement else "none",
        network_blocked=bool(enforcement and enforcement.network_blocked),
        filesystem_private=bool(enforcement and enforcement.filesystem_private),
        memory_limit_mb=enforcement.memory_limit_mb if enforcement else None,
        cpu_limit_s=enforcement.cpu_limit_s if enforcement else None,
        process_limit=enforcement.process_limit if enforcement else None,
        disk_limit_mb=enforcement.disk_limit_mb if enforcement else None,
        numerics=numerics_used or {},
    )


def write_outputs(
    run: GradingRun, out_dir: Path, templates_dir: Path | None = None
) -> dict[str, Path]:
    """Write results.json, the figures and the reports into ``out_dir``."""
    from grader.report.render import write_reports

    out_dir.mkdir(parents=True, exist_ok=True)
    figures_dir = out_dir / "figures"
    saved = []
    for number, figure in enumerate(run.figures, start=1):
        figures_dir.mkdir(exist_ok=True)
        name = f"cell{figure.cell}-{number}.png"
        (figures_dir / name).write_bytes(figure.png)
        saved.append(
            Figure(
                cell=figure.cell, path=f"figures/{name}", width=figure.width, height=figure.height
            )
        )
    if run.result.execution is not None:
        run.result.execution.figures = saved
    results_path = out_dir / "results.json"
    results_path.write_text(run.result.model_dump_json(indent=2), encoding="utf-8")
    paths = {"results": results_path}
    paths.update(write_reports(run.result, out_dir, templates_dir=templates_dir))
    return paths


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
