"""``check()`` in the student's notebook: the public tests, against this live kernel.

::

    from grader import check
    check("q1")      # one question: q1, q2, ... or a criterion id such as "shapes"
    check()          # every public check

It runs in the student's own kernel (JupyterLab, classic Notebook, VS Code, Colab, a
plain ``python``), needs no network and no second kernel, and shows a compact table:
HTML where there is a display, text elsewhere. The public tests are the very files
``grader check`` and grading run; only the ``nb`` fixture's backing differs
(:meth:`grader.testing.fixture.Notebook.local`), and both go through the same
kernel-side code and wire encoding, so a check here and in a fresh kernel agree on what
the same code does. Hidden tests are not here; they run at grading.

Importing this module (``from grader import check``) also starts noting which cells
raise, so a later check can say so; cells run before the import are not seen.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple

from grader.student.diagnose import CHECK_CALL, RESTART, RanCell, out_of_order
from grader.student.summary import CheckSummary

# Everything heavier (pydantic models, pytest, the rubric) is imported when check() runs,
# so that `from grader import check` in a notebook's first cell costs next to nothing.


class _Run(NamedTuple):
    """The latest run of one cell, as IPython's post_run_cell hook saw it."""

    count: int | None
    error: str | None  # "Type: message", or None if it ran without raising
    head: str  # its first line, to find it
    source: str | None  # its source when the front end sent no cell id (nbclient, old ones)


#: Set in every kernel the grader starts (grader.runners.local.kernel_environment).
GRADING_KERNEL = "DLGRADER_KERNEL"

#: cell id (or, without one, the cell's source) -> its latest run
_RUNS: dict[str, _Run] = {}


def check(
    question: str | None = None,
    *,
    course: str | Path | None = None,
    assignment: str | None = None,
    notebook: str | Path | None = None,
) -> CheckSummary:
    """Run the public checks of ``question`` (all of them by default) on this kernel.

    ``course``: the released assignment folder, if it is not the notebook's folder (or
    set ``GRADER_COURSE``). ``assignment``: which one, if that folder holds several.
    ``notebook``: the saved notebook, to say whether cells ran out of order (found by
    itself in VS Code, JupyterLab, Notebook 7 and Colab).
    """
    from grader.errors import GraderError

    summary = CheckSummary(assignment=assignment or "?", title="", source="this kernel")
    if os.environ.get(GRADING_KERNEL) == "1":
        # The grader runs this notebook (grading, or `grader check`): its own tests judge it.
        summary.problem = "skipped while the grader runs this notebook"
    else:
        try:
            summary = _run(question, course, assignment, notebook)
        except GraderError as exc:
            summary.problem = str(exc)
    _show(summary)
    return summary


def _run(
    question: str | None,
    course: str | Path | None,
    name: str | None,
    notebook: str | Path | None,
) -> CheckSummary:
    from grader.scoring import score_criterion
    from grader.student.bundle import find_bundle, pick_assignment, select
    from grader.student.summary import rows_from
    from grader.testing.local import LocalBridge
    from grader.testing.plugin import IN_KERNEL_ARGS, run_tests

    bundle = find_bundle(course)
    path = Path(notebook).expanduser() if notebook is not None else _notebook_file()
    chosen = pick_assignment(bundle, name, path if path and path.is_file() else None)
    wanted = select(chosen, question)
    if path is None:
        path = _single_notebook_for(chosen.name)
    gpu, gpu_reason = local_gpu()
    tier = _tier(chosen.config.dataset)
    files = sorted(
        {chosen.tests_root / t.partition("::")[0] for c in wanted.values() for t in c.tests}
    )
    bridge = LocalBridge(chosen.config.limits.request_timeout)
    context = {"tier": tier, "gpu_available": gpu, "mode": "check"}
    try:
        outcomes, _ = run_tests(files, bridge, context, chosen.tests_root, IN_KERNEL_ARGS)
    finally:
        bridge.close()
    scored = [
        score_criterion(
            c,
            outcomes,
            gpu_available=gpu,
            default_policy=chosen.rubric.gpu_policy,
            tier=tier,
        )
        for c in wanted.values()
    ]
    ids = {c.id: q for q, c in wanted.items()}
    return CheckSummary(
        assignment=chosen.name,
        title=chosen.config.title,
        source="this kernel",
        rows=rows_from(scored, ids, gpu_reason),
        notes=_notes(path),
    )


def _show(summary: CheckSummary) -> None:
    """HTML (or text) through IPython's display where there is one; print elsewhere."""
    if "IPython" in sys.modules:
        from IPython import get_ipython

        if get_ipython() is not None:
            from IPython.display import display

            display(summary)
            return
    print(summary.text())


# -- what the kernel knows about the notebook ---------------------------------------


def _notes(path: Path | None) -> list[str]:
    notes = []
    cells = _live_cells() or (_saved_cells(path) if path is not None else None)
    if cells:
        stale = out_of_order(_with_latest_runs(cells))
        if stale:
            notes.append(f"{stale}, {RESTART}")
    notes += _cells_that_raised({s.strip() for _, s in cells} if cells else None)
    return notes


def _notebook_file() -> Path | None:
    """The notebook this kernel serves, where the front end says: VS Code, Jupyter Server."""
    shell = _shell()
    named = shell.user_ns.get("__vsc_ipynb_file__") if shell is not None else None
    if isinstance(named, str) and Path(named).is_file():
        return Path(named)
    session = os.environ.get("JPY_SESSION_NAME")  # JupyterLab / Notebook 7: its path
    if session and session.endswith(".ipynb"):
        for candidate in (Path(session), Path.cwd() / Path(session).name):
            if candidate.is_file():
                return candidate
    return None


def _single_notebook_for(assignment: str) -> Path | None:
    """The one notebook in the working folder made for ``assignment``, if exactly one."""
    from grader.student.bundle import assignment_named_by

    found = [p for p in sorted(Path.cwd().glob("*.ipynb")) if assignment_named_by(p) == assignment]
    return found[0] if len(found) == 1 else None


def _live_cells() -> list[tuple[int, str]] | None:
    """Colab keeps the notebook in the browser: ask the front end for it (best effort)."""
    colab = sys.modules.get("google.colab")
    if colab is None:
        return None
    try:
        from google.colab import _message  # type: ignore[import-not-found]

        reply = _message.blocking_request("get_ipynb", timeout_sec=5)
        return _code_cells(reply["ipynb"]["cells"])
    except Exception:  # noqa: BLE001 - an undocumented call: without it, no order check
        return None


def _saved_cells(path: Path) -> list[tuple[int, str]] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        return _code_cells(data["cells"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _code_cells(cells: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(1-based cell number, source) of each code cell."""
    found = []
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            found.append((number, "".join(source) if isinstance(source, list) else str(source)))
    return found


def _with_latest_runs(cells: list[tuple[int, str]]) -> list[RanCell]:
    """Each cell with the count of its latest run in this kernel, matched by its source.

    The saved file may lag behind the editor: a cell whose text differs from every run is
    simply not matched, so an unsaved edit never raises a false alarm.
    """
    shell = _shell()
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None) or []
    number_of: dict[str, int] = {}
    repeated = set()
    for number, source in cells:
        key = source.strip()
        if key in number_of:
            repeated.add(key)
        number_of[key] = number
    latest: dict[int, int] = {}
    for count, source in enumerate(history):
        key = source.strip() if isinstance(source, str) else ""
        if count and key and key not in repeated and key in number_of:
            latest[number_of[key]] = count
    return [RanCell(number, source, latest.get(number)) for number, source in cells]


def _cells_that_raised(current: set[str] | None) -> list[str]:
    """Cells whose latest run raised, as noted since this module was imported.

    A cell known only by its source is left out once that source is gone from the saved
    notebook (``current``): it was edited since, and its new version is another entry.
    """
    notes = []
    for run in sorted(_RUNS.values(), key=lambda run: run.count or 0):
        if run.error is None or (current is not None and run.source not in (None, *current)):
            continue
        where = f"In [{run.count}]" if run.count else "a cell"
        notes.append(f"{where} raised {run.error} (its latest run): {run.head}")
    return notes


def _record_run(result: Any) -> None:
    """IPython's post_run_cell hook: remember whether each cell's latest run raised."""
    info = getattr(result, "info", None)
    source = getattr(info, "raw_cell", "") or ""
    if not source.strip() or CHECK_CALL.search(source) or getattr(info, "silent", False):
        return
    cell_id = getattr(info, "cell_id", None)
    error = result.error_in_exec or result.error_before_exec
    described = None
    if error is not None:
        message = str(error).strip().splitlines()
        described = f"{type(error).__name__}: {message[0][:200] if message else ''}".rstrip(": ")
    head = source.strip().splitlines()[0][:80]
    by_source = None if cell_id else source.strip()
    _RUNS[cell_id or source.strip()] = _Run(
        getattr(result, "execution_count", None), described, head, by_source
    )


def _install_recorder() -> None:
    shell = _shell()
    if shell is None:
        return
    callbacks = shell.events.callbacks.get("post_run_cell", [])
    if not any(getattr(cb, "__name__", "") == _record_run.__name__ for cb in callbacks):
        shell.events.register("post_run_cell", _record_run)


def _shell() -> Any:
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


# -- the machine ---------------------------------------------------------------------


def local_gpu() -> tuple[bool, str]:
    """Whether this kernel has a GPU, and how to say it has none.

    Asks the framework the notebook already imported (never imports one: TensorFlow
    alone takes seconds), else looks for NVIDIA's device files as the grader does.
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            return bool(torch.cuda.is_available()), "PyTorch finds no CUDA GPU in this kernel"
        except Exception:  # noqa: BLE001 - a broken CUDA install is no GPU
            return False, "PyTorch could not start CUDA in this kernel"
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        try:
            found = bool(tf.config.list_physical_devices("GPU"))
        except Exception:  # noqa: BLE001
            found = False
        return found, "TensorFlow finds no GPU in this kernel"
    devices = {p.name for p in Path("/dev").glob("nvidia*")}
    found = "nvidiactl" in devices and any(name[6:].isdigit() for name in devices)
    return found, "this machine has no NVIDIA GPU"


def _tier(dataset: str | None) -> str | None:
    """The data tier the notebook itself sees (the same rule as grading's)."""
    if not dataset:
        return None
    from grader import datasets

    return datasets.tier(dataset)


_install_recorder()
