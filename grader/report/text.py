"""Make student-controlled text safe to show, and format numbers for people.

Everything a student's notebook produced (its file name, exception messages,
tracebacks, measured values) is untrusted. HTML escaping is Jinja's job
(autoescape is always on for HTML); this module removes what escaping cannot:
terminal colour codes, control characters, bidirectional overrides that make
text read differently from what it is, and runaway lengths. It also escapes
Markdown, where no template engine helps.
"""

from __future__ import annotations

import math
import re
from urllib.parse import quote

# CSI (colours, cursor moves), OSC (titles, hyperlinks; ended by BEL or ESC \),
# and the remaining two-character ESC sequences, in that order of precedence.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidi
# embedding/override/isolate marks (the "Trojan source" characters).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

TEXT_LIMIT = 2_000
LONG_TEXT_LIMIT = 20_000


def clean_text(text: object, limit: int = TEXT_LIMIT) -> str:
    """Plain text without terminal escapes or control characters, at most ``limit`` chars.

    Long text keeps its head and its tail: the end of a traceback names the error.
    """
    value = "" if text is None else str(text)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", _ANSI.sub("", value))
    if len(value) > limit:
        head = limit * 2 // 3
        tail = limit - head
        dropped = len(value) - head - tail
        value = f"{value[:head]}\n… [{dropped:,} characters left out] …\n{value[-tail:]}"
    return value


def number(value: float | None) -> str:
    """Points and scores as people write them: ``7.5``, ``10``, never ``10.0000001``."""
    if value is None:
        return ""
    return f"{round(float(value), 2):g}"


def percent(value: float) -> str:
    return f"{value:.1f}%"


def seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def measured_value(value: object, limit: int = 300) -> str:
    """A measured value in a short, readable form (floats to 6 significant digits)."""
    return clean_text(_format(value, depth=0), limit=limit)


def _format(value: object, depth: int) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if depth > 2:
        return "…"
    if isinstance(value, list | tuple):
        items = [_format(v, depth + 1) for v in value[:10]]
        more = ", …" if len(value) > 10 else ""
        return "[" + ", ".join(items) + more + "]"
    if isinstance(value, dict):
        pairs = [f"{k}: {_format(v, depth + 1)}" for k, v in list(value.items())[:10]]
        more = ", …" if len(value) > 10 else ""
        return "{" + ", ".join(pairs) + more + "}"
    return str(value)


def relative_url(path: str) -> str | None:
    """A figure's path as a relative URL, or None when it is not a plain relative path.

    Figure paths come from the grader, but a report must never point outside its
    own folder or at another scheme (``javascript:``, ``http:``), whatever wrote them.
    """
    if not path or "\\" in path or ":" in path or path.startswith("/"):
        return None
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts) or _CONTROL.search(path):
        return None
    return "/".join(quote(part, safe="") for part in parts)


# -- Markdown -----------------------------------------------------------------

# The ASCII punctuation that can start markup inside a line: emphasis, code spans,
# links and images (no "[", no link), raw HTML and entities, table pipes,
# strikethrough, and "#". Line-start markup (lists, quotes, headings by "=" or
# "-") is avoided by templates never starting a line with student text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~&])")


def md_inline(text: object, limit: int = TEXT_LIMIT) -> str:
    """Student text as one line of literal Markdown: no markup, no raw HTML, no line breaks."""
    flat = " ".join(clean_text(text, limit).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def md_cell(text: object, limit: int = TEXT_LIMIT) -> str:
    """Text for a GFM table cell: as :func:`md_inline`, never empty (pipes are escaped there)."""
    return md_inline(text, limit) or " "


def md_fence(text: object, info: str = "text", limit: int = LONG_TEXT_LIMIT) -> str:
    """A fenced code block that the text cannot close, whatever backticks it holds."""
    body = clean_text(text, limit).rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body}\n{fence}"
