"""Executing notebooks: errors are recorded per cell, hangs and deaths are contained."""

import pytest

from grader.bridge import StudentError
from grader.config import Limits
from grader.execute import MAX_STREAM_CHARS
from grader.testing.fixture import KernelNotRunning
from grader.testing.live import live_notebook, notebook_from_cells

FAST = Limits(cell_timeout=3, notebook_timeout=30, request_timeout=3)


def test_a_failing_cell_does_not_stop_later_cells():
    cells = ["x = 1", "undefined_name + 1", "y = x + 1", "raise ValueError('<b>bad</b>')"]
    with live_notebook(cells, FAST) as (nb, run):
        assert nb.get("y") == 2
    errors = run.execution.errors
    assert [(e.cell, e.ename) for e in errors] == [(2, "NameError"), (4, "ValueError")]
    assert "undefined_name" in errors[0].evalue and "\x1b[" not in errors[0].traceback
    assert run.execution.cells_run == 4 and run.execution.stopped_at_cell is None


def test_a_slow_cell_is_interrupted_and_later_cells_run():
    cells = ["import time\nstarted = True", "time.sleep(60)", "after = 'ran'"]
    with live_notebook(cells, FAST) as (nb, run):
        assert nb.get("after") == "ran"
    assert run.execution.errors[0].ename == "TimeoutError" and run.execution.errors[0].cell == 2


def test_a_cell_that_ignores_sigint_is_still_interrupted():
    cells = [
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)",
        "while True:\n    pass",
        "after = 1",
    ]
    with live_notebook(cells, FAST) as (nb, run):
        assert nb.get("after") == 1
    assert run.execution.errors[0].ename == "TimeoutError"


def test_a_cell_swallowing_interrupts_gets_the_kernel_killed_and_reported():
    cells = [
        "import time",
        "while True:\n    try:\n        time.sleep(10)\n    except BaseException:\n        pass",
        "never = 1",
    ]
    with live_notebook(cells, FAST) as (nb, run):
        with pytest.raises(KernelNotRunning, match="cell 2"):
            nb.get("never")
    assert run.execution.stopped_at_cell == 2
    assert "did not stop" in run.execution.stop_reason


@pytest.mark.parametrize("killer", ["import os\nos._exit(1)", "import ctypes\nctypes.string_at(0)"])
def test_kernel_death_is_reported_with_the_cell(killer):
    with live_notebook(["a = 1", killer, "b = 2"], FAST) as (nb, run):
        with pytest.raises(KernelNotRunning):
            nb.get("a")
    assert run.execution.stopped_at_cell == 2 and "died" in run.execution.stop_reason


def test_whole_notebook_deadline():
    limits = Limits(cell_timeout=2, notebook_timeout=3, request_timeout=3)
    cells = ["import time", "time.sleep(1.5)", "time.sleep(1.5)", "time.sleep(1.5)", "late = 1"]
    with live_notebook(cells, limits) as (_nb, run):
        pass
    assert run.execution.stopped_at_cell is not None
    assert "time limit" in run.execution.stop_reason


def test_student_errors_and_hanging_calls_during_tests():
    cells = [
        "def boom(x):\n    raise KeyError(x)\n",
        "def hang():\n    while True:\n        pass",
        "def ok():\n    return 42",
    ]
    with live_notebook(cells, FAST) as (nb, _run):
        with pytest.raises(StudentError, match="KeyError"):
            nb.call("boom", "k")
        with pytest.raises(Exception, match="no answer"):
            nb.call("hang")
        assert nb.call("ok") == 42, "kernel must stay usable after an interrupted call"


def test_requests_do_not_run_the_notebooks_cell_hooks():
    """A request is a silent execution: a ``post_run_cell`` hook the notebook registered
    (a plotting helper, a logger, a hostile counter) runs after its cells, not after each
    of the tests' requests, so requests cannot trigger it or be disturbed by it."""
    cells = [
        "runs = []\nget_ipython().events.register('post_run_cell', lambda r: runs.append(1))",
        "def ok():\n    return 42",
    ]
    with live_notebook(cells, FAST) as (nb, _run):
        before = nb.get("runs")
        assert before, "the hook ran after the notebook's own cells"
        for _ in range(3):
            assert nb.call("ok") == 42
        assert nb.get("runs") == before


def test_hostile_str_and_fake_arrays_do_not_break_the_bridge():
    cells = [
        "class Evil(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\n"
        "def raise_evil():\n    raise Evil()",
        "class FakeArray:\n    def __array__(self, *a, **k):\n        raise SystemError('lie')\n"
        "    def __len__(self):\n        return 10**18\nfake = FakeArray()",
    ]
    with live_notebook(cells, FAST) as (nb, _run):
        with pytest.raises(StudentError, match="Evil"):
            nb.call("raise_evil")
        ref = nb.ref("fake")
        assert ref.id.startswith("r"), "unknown objects stay in the kernel as references"


def test_figures_are_captured():
    cells = ["import matplotlib.pyplot as plt\nplt.plot([3, 2, 1])\nplt.title('loss')\nplt.show()"]
    with live_notebook(cells, FAST) as (_nb, run):
        pass
    assert len(run.figures) == 1 and run.figures[0].png.startswith(b"\x89PNG")


def test_a_flood_of_output_is_dropped_as_it_arrives():
    notebook = notebook_from_cells(
        ["line = 'x' * 999\nfor _ in range(20_000):\n    print(line)", "after = 'ran'"]
    )
    with live_notebook(notebook, FAST) as (nb, _run):
        assert nb.get("after") == "ran"
    stored = sum(len(o.get("text", "")) for o in notebook.cells[0].outputs)
    assert stored <= MAX_STREAM_CHARS + 200, "20 MB printed, at most the cap kept"
    assert "dropped" in "".join(o.get("text", "") for o in notebook.cells[0].outputs)


def test_readiness_is_quick_on_a_live_kernel_and_fails_fast_on_a_dead_one():
    import time

    from jupyter_core.utils import run_sync

    from grader import kernels
    from grader.runners.local import LocalRunner

    wait = run_sync(kernels.wait_answering)
    with LocalRunner().session(FAST) as session:
        kernels.call(session.manager, "start_kernel")
        client = kernels.blocking_client(session.manager)
        client.start_channels()
        try:
            wait(client, 30)  # the kernel answered and its iopub reached this client
            msg_id = client.kernel_info()
            parents: list[str] = []  # the first request's "idle" may still come first
            while msg_id not in parents:
                parents.append(client.get_iopub_msg(timeout=5)["parent_header"].get("msg_id"))
            kernels.call(session.manager, "shutdown_kernel", now=True)
            started = time.monotonic()
            with pytest.raises(RuntimeError, match="died"):
                wait(client, 30)
            assert time.monotonic() - started < 5, "a dead kernel is noticed, not waited out"
        finally:
            client.stop_channels()


def test_a_large_request_goes_through_a_file_that_is_removed_afterwards():
    import numpy as np

    from grader.bridge import INLINE_LIMIT

    big = np.arange(INLINE_LIMIT // 4, dtype=np.float64)  # about 2x the limit once encoded
    cells = ["def total(a):\n    return float(a.sum())"]
    with live_notebook(cells, FAST) as (nb, run):
        assert nb.call("total", big) == float(big.sum())
        assert nb.call("total", big[:10]) == 45.0  # a small one, inline
        spool = run.bridge.spool
        assert spool is not None and not list(spool.glob("request-*.json"))
