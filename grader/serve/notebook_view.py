"""A student's notebook as text: what they wrote and what it printed, nothing live.

Students' outputs can hold HTML, SVG and JavaScript. None of it is passed on: cell
sources, streams, ``text/plain`` results and tracebacks become text (the template
escapes them), and the only images shown are PNGs whose bytes really are PNG, as data
URIs. Everything else is named by its MIME type so the reviewer knows it was there.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_TEXT = 20_000  # characters of one output shown; the rest is cut with a note
MAX_PNG = 2_000_000  # bytes of one image
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Output:
    kind: str  # "text", "error", "png", "omitted"
    text: str = ""
    png: str = ""  # data URI


@dataclass(frozen=True)
class Cell:
    number: int
    kind: str  # "code", "markdown", "raw"
    source: str
    outputs: list[Output] = field(default_factory=list)


@dataclass(frozen=True)
class NotebookView:
    cells: list[Cell]
    problem: str = ""  # why the notebook could not be shown


def read_notebook(path: Path) -> NotebookView:
    """The notebook at ``path`` as safe cells; a missing or broken file is a problem line."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        raw_cells = document["cells"]
        if not isinstance(raw_cells, list):
            raise TypeError("cells is not a list")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return NotebookView([], f"cannot show {path.name}: {exc}")
    cells = []
    for number, raw in enumerate(raw_cells, start=1):
        if not isinstance(raw, dict):
            continue
        outputs = raw.get("outputs") if raw.get("cell_type") == "code" else []
        cells.append(
            Cell(
                number=number,
                kind=str(raw.get("cell_type", "raw")),
                source=_cut(_text(raw.get("source", ""))),
                outputs=[_output(o) for o in outputs or [] if isinstance(o, dict)],
            )
        )
    return NotebookView(cells)


def _output(raw: dict) -> Output:
    kind = raw.get("output_type")
    if kind == "stream":
        return Output("text", _cut(_text(raw.get("text", ""))))
    if kind == "error":
        lines = raw.get("traceback") or [f"{raw.get('ename', '')}: {raw.get('evalue', '')}"]
        return Output("error", _cut(_ANSI.sub("", "\n".join(map(str, lines)))))
    data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
    png = _png(data.get("image/png"))
    if png:
        return Output("png", png=png)
    if "text/plain" in data:
        return Output("text", _cut(_text(data["text/plain"])))
    kinds = ", ".join(sorted(map(str, data))) or str(kind)
    return Output("omitted", f"[{kinds}: not shown]")


def _png(value: object) -> str:
    text = _text(value).replace("\n", "")
    if not text or len(text) > MAX_PNG * 4 // 3 + 4:
        return ""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return ""
    if not data.startswith(PNG_MAGIC):
        return ""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(map(str, value))
    return str(value) if value is not None else ""


def _cut(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"\n[… {len(text) - MAX_TEXT} more characters not shown]"
