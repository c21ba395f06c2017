"""Execute a student notebook cell by cell in a runner's kernel, keeping the kernel.

Every cell runs, even after one fails, so a student's mistake in cell 5 does not
cost the marks of cell 9. Each cell has a deadline (the per-cell timeout, cut to
what is left of the whole-notebook budget). A cell that passes it is
interrupted; if the kernel does not come back, it is killed, and the record
says at which cell it stopped. The kernel stays alive afterwards for the tests.
"""

from __future__ import annotations

import base64
import re
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import nbformat
from jupyter_core.utils import ensure_async, run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from grader import kernels
from grader.bridge import LISTEN, Bridge
from grader.config import Limits
from grader.logfile import kernel_output
from grader.results import CellError, Execution
from grader.runners.base import KernelSession

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
MAX_TRACEBACK = 4000
MAX_FIGURES = 20
MAX_PNG_BYTES = 4 * 1024 * 1024
MAX_PNG_SIDE = 4096
MAX_STREAM_CHARS = 100_000
#: Output one cell may accumulate while it runs (a 4 MiB PNG is 5.6 M base64 characters).
MAX_CELL_OUTPUT_CHARS = 8_000_000


class CappedClient(NotebookClient):
    """nbclient, but a cell's outputs stop being stored once they pass a size.

    nbclient keeps every output in memory until the cell ends, and ``_cap_streams``
    trims only then: a cell printing gigabytes would hold them all in the grader. Here
    outputs past the cap are dropped as they arrive, with one note saying so.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._output_chars: dict[int, int] = {}

    def output(self, outs, msg, display_id, cell_index):  # noqa: ANN001, ANN201 - nbclient's
        used = self._output_chars.get(cell_index, 0)
        size = _message_chars(msg)
        self._output_chars[cell_index] = used + size
        if used + size <= MAX_CELL_OUTPUT_CHARS:
            return super().output(outs, msg, display_id, cell_index)
        if used <= MAX_CELL_OUTPUT_CHARS:
            note = f"\n[... output past {MAX_CELL_OUTPUT_CHARS // 1_000_000} MB dropped ...]\n"
            outs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
        return None

    async def async_start_new_kernel_client(self):  # noqa: ANN201 - nbclient's
        """nbclient's client start, with :func:`kernels.wait_answering` for its readiness.

        nbclient's own wait ends in 0.2 s of listening to an idle iopub, on the critical
        path of every grading; its cell loop reads only replies to its own requests.
        """
        assert self.km is not None
        self.kc = self.km.client()
        try:
            await ensure_async(self.kc.start_channels())
            await kernels.wait_answering(self.kc, self.startup_timeout)
        except Exception:
            await self._async_cleanup_kernel()
            raise
        self.kc.allow_stdin = False
        return self.kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)


def _message_chars(msg: dict) -> int:
    """Characters an output message would add to the notebook (text and encoded data)."""
    content = msg.get("content", {})
    total = len(content.get("text", "")) if isinstance(content.get("text"), str) else 0
    data = content.get("data")
    if isinstance(data, dict):
        total += sum(len(v) for v in data.values() if isinstance(v, str))
    return total


@dataclass
class CapturedFigure:
    cell: int
    png: bytes
    width: int
    height: int


@dataclass
class NotebookRun:
    """What executing the notebook produced; ``bridge`` talks to the live kernel."""

    execution: Execution
    bridge: Bridge
    figures: list[CapturedFigure] = field(default_factory=list)
    #: The cell that killed the kernel or would not stop when interrupted: a replay
    #: without it can recover the cells before it (not set for the notebook's time limit).
    fatal_cell: int | None = None


@contextmanager
def run_notebook(
    nb: nbformat.NotebookNode,
    session: KernelSession,
    limits: Limits,
    on_cell: Callable[[int, int], None] | None = None,
    preamble: str | None = None,
) -> Iterator[NotebookRun]:
    """Run every code cell, then yield with the kernel still up for the tests.

    ``on_cell(done, total)`` is called after each code cell, for progress display.
    ``preamble`` runs first as one silent execution (:func:`grader.numerics.preamble`:
    seeds and thread counts), with the bridge's listener (:data:`grader.bridge.LISTEN`):
    no execution count, no output, no name bound.
    """
    client = CappedClient(
        nb,
        km=session.manager,
        timeout=limits.cell_timeout,
        allow_errors=True,
        interrupt_on_timeout=False,
        startup_timeout=90,
        record_timing=False,
        resources={"metadata": {"path": str(session.workdir / "home")}},
    )
    with ExitStack() as stack:
        # A cold kernel starts here (a warm one runs already); its output goes to the log.
        output = kernel_output()
        try:
            stack.enter_context(client.setup_kernel(**output))
        finally:
            for handle in set(output.values()):
                handle.close()  # the kernel process keeps its own copy
        bridge = Bridge(
            session.manager, request_timeout=limits.request_timeout, spool=session.workdir
        )
        try:
            # Seeds first: a kernel whose dlgrader cannot listen still gets them.
            start = "\n".join(code for code in (preamble, LISTEN) if code)
            _run_silently(client, start, limits.cell_timeout)
            run = _execute_cells(client, nb, bridge, limits, on_cell)
            yield run
        finally:
            bridge.close()
            # nbclient stops its own client only when it owns the kernel manager, and
            # here the runner owns it: without this, every grading would leave a
            # heartbeat thread, two ZeroMQ threads and a dozen open files in the worker.
            if client.kc is not None:
                client.kc.stop_channels()
                client.kc = None


def _run_silently(client: NotebookClient, code: str, timeout: float) -> bool:
    """Execute ``code`` silently and wait for its reply; False if none came in time.

    A preamble that does not answer is not the student's fault and stops nothing: the
    cells still run, only without the seeds.
    """
    assert client.kc is not None
    msg_id = client.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
    return run_sync(kernels.reply_arrives)(client.kc, msg_id, time.monotonic() + timeout)


def _execute_cells(
    client: NotebookClient, nb, bridge: Bridge, limits: Limits, on_cell=None
) -> NotebookRun:
    started = time.monotonic()
    deadline = started + limits.notebook_timeout
    errors: list[CellError] = []
    figures: list[CapturedFigure] = []
    stopped_at: int | None = None
    reason: str | None = None
    fatal: int | None = None
    cells_run = 0
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    for index, cell in code_cells:
        number = index + 1
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            stopped_at, reason = (
                number,
                (f"the notebook ran out of its {limits.notebook_timeout:g} s time limit"),
            )
            break
        client.timeout = max(1, int(min(limits.cell_timeout, remaining)))
        try:
            client.execute_cell(cell, index)
        except CellTimeoutError:
            cells_run += 1
            errors.append(_timeout_error(cell, number, client.timeout))
            if not _recover(bridge):
                fatal = number
                stopped_at, reason = (
                    number,
                    (
                        f"cell {number} ran past {client.timeout} s "
                        "and did not stop when interrupted"
                    ),
                )
                break
            continue
        except DeadKernelError:
            cells_run += 1
            fatal = number
            stopped_at, reason = number, f"the kernel died while running cell {number}"
            break
        cells_run += 1
        if on_cell is not None:
            on_cell(cells_run, len(code_cells))
        _cap_streams(cell)
        errors.extend(_cell_errors(cell, number))
        figures.extend(_figures(cell, number, room=MAX_FIGURES - len(figures)))
    if stopped_at is None and not bridge.alive():
        stopped_at, reason = code_cells[-1][0] + 1 if code_cells else 0, "the kernel stopped"
        fatal = stopped_at or None
    if stopped_at is not None:
        bridge.mark_dead(f"the kernel stopped at cell {stopped_at}: {reason}")
    execution = Execution(
        cells_total=len(code_cells),
        cells_run=cells_run,
        duration_s=round(time.monotonic() - started, 3),
        stopped_at_cell=stopped_at,
        stop_reason=reason,
        errors=errors,
    )
    return NotebookRun(execution=execution, bridge=bridge, figures=figures, fatal_cell=fatal)


def _recover(bridge: Bridge) -> bool:
    """After a cell timeout: interrupt; True if the kernel answers again."""
    bridge.interrupt()
    if bridge.alive() and bridge.responsive(5.0):
        return True
    bridge.kill()
    return False


def _source_head(cell) -> str:
    return "\n".join(cell.source.splitlines()[:3])[:300]


def _timeout_error(cell, number: int, seconds: float) -> CellError:
    return CellError(
        cell=number,
        execution_count=cell.get("execution_count"),
        ename="TimeoutError",
        evalue=f"cell {number} did not finish within {seconds:g} s",
        source=_source_head(cell),
    )


def _cell_errors(cell, number: int) -> list[CellError]:
    found = []
    for output in cell.get("outputs", []):
        if output.get("output_type") != "error":
            continue
        trace = ANSI.sub("", "\n".join(output.get("traceback", [])))
        found.append(
            CellError(
                cell=number,
                execution_count=cell.get("execution_count"),
                ename=str(output.get("ename", "Error"))[:200],
                evalue=ANSI.sub("", str(output.get("evalue", "")))[:MAX_TRACEBACK],
                traceback=trace[-MAX_TRACEBACK:],
                source=_source_head(cell),
            )
        )
    return found


def _cap_streams(cell) -> None:
    """Keep printed output to a size a report can hold."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and len(output.get("text", "")) > MAX_STREAM_CHARS:
            output["text"] = output["text"][:MAX_STREAM_CHARS] + "\n[... output truncated ...]\n"


def _figures(cell, number: int, room: int) -> list[CapturedFigure]:
    found: list[CapturedFigure] = []
    for output in cell.get("outputs", []):
        if len(found) >= room:
            break
        data = (
            output.get("data", {})
            if output.get("output_type") in ("display_data", "execute_result")
            else {}
        )
        encoded = data.get("image/png")
        if not isinstance(encoded, str) or len(encoded) > MAX_PNG_BYTES * 4 // 3 + 4:
            continue
        try:
            png = base64.b64decode(encoded, validate=False)
        except ValueError:
            continue
        size = png_size(png)
        if size and max(size) <= MAX_PNG_SIDE:
            found.append(CapturedFigure(cell=number, png=png, width=size[0], height=size[1]))
    return found


def png_size(png: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG header, or None if it is not a PNG."""
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", png[16:24])
    return (width, height) if width and height else None
