"""Find the command examples in docs/ and what the documentation tests expect of them.

Every fenced block tagged ``bash``, ``console``, ``sh`` or ``shell`` is a command example,
and so is an untagged block that starts with a command (``grader ...``). The HTML comment
right before it says what to do with it:

    <!-- doctest: run -->                       run it; it must exit 0
    <!-- doctest: run exit=2 -->                it must exit 2
    <!-- doctest: run expect="public score" -->  its output must contain the text
    <!-- doctest: run needs=docker -->          run only where the Docker runner works
    <!-- doctest: skip REASON -->               not run: it needs a GPU, a cluster, a
                                                learning platform... (shown to readers)

Blocks of one page run in order in one scratch copy of the course, each in a fresh
``bash -euo pipefail`` that starts in the folder the previous block ended in, so a page
reads (and runs) like a session. Used by ``tests/test_docs.py`` and ``docs_hooks.py``.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
SHELL_LANGS = ("bash", "console", "sh", "shell")
#: An untagged block that starts like this is a command example too.
COMMAND = re.compile(r"(\$ )?(grader|python|bash|dask|pip|sbatch|kubectl|docker)\b")

FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
MARKER = re.compile(r"<!--\s*doctest:\s*(?P<kind>run|skip)\b(?P<args>.*?)-->", re.DOTALL)
SKIP_MARKER = re.compile(r"<!--\s*doctest:\s*skip\b(?P<reason>.*?)-->", re.DOTALL)


@dataclass
class Example:
    page: str  # relative to docs/
    line: int
    lang: str
    code: str
    kind: str | None = None  # "run", "skip", or None (no marker)
    exit: int = 0
    expect: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def where(self) -> str:
        return f"{posixpath.normpath('docs/' + self.page)}:{self.line}"


def is_command_block(lang: str, body: str) -> bool:
    """A shell block, or an untagged block whose first line is a command."""
    if lang in SHELL_LANGS:
        return True
    first = next((ln for ln in body.splitlines() if ln.strip()), "")
    return lang == "" and COMMAND.match(first.strip()) is not None


def examples(path: Path) -> list[Example]:
    """Every command block of a page, with the marker before it (if any)."""
    text = path.read_text(encoding="utf-8")
    found = []
    for fence in FENCE.finditer(text):
        if not is_command_block(fence.group("lang"), fence.group("body")):
            continue
        before = text[: fence.start()].rstrip()
        example = Example(
            page=page_name(path),
            line=text.count("\n", 0, fence.start()) + 1,
            lang=fence.group("lang"),
            code=_dedent(fence.group("body"), fence.group("indent")),
        )
        marker = _last_marker(before)
        if marker is not None:
            _apply(example, marker)
        found.append(example)
    return found


def page_name(path: Path) -> str:
    """A page relative to docs/; the README (outside it) is ``../README.md``."""
    return posixpath.relpath(path.resolve().as_posix(), DOCS.resolve().as_posix())


def _last_marker(before: str) -> re.Match | None:
    """The marker that ends the text before a fence (only blank lines between)."""
    if not before.endswith("-->"):
        return None
    start = before.rfind("<!--")
    return MARKER.fullmatch(before[start:]) if start >= 0 else None


def _apply(example: Example, marker: re.Match) -> None:
    example.kind = marker.group("kind")
    args = marker.group("args").strip()
    if example.kind == "skip":
        example.reason = " ".join(args.split())
        return
    for word in shlex.split(args):
        key, _, value = word.partition("=")
        if key == "exit":
            example.exit = int(value)
        elif key == "expect":
            example.expect.append(value)
        elif key == "needs":
            example.needs += value.split(",")
        else:
            raise ValueError(f"{example.where}: unknown doctest option {word!r}")


def _dedent(body: str, indent: str) -> str:
    lines = body.splitlines()
    return "\n".join(line[len(indent) :] if line.startswith(indent) else line for line in lines)


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def runnable_pages() -> list[Path]:
    """Pages with at least one block to run, in a stable order."""
    return [p for p in pages() if any(e.kind == "run" for e in examples(p))]
