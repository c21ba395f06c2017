"""What a student's check shows: one row per public check, in HTML, text or a rich table.

The in-notebook ``check()`` and ``grader check`` build the same :class:`CheckSummary`
from scored criteria, so both say the same things in the same words. Everything is
labelled public: these are the public tests only, and hidden tests run at grading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.results import CriterionResult

#: The label every check result carries, wherever it is shown.
PUBLIC_LABEL = "public tests only; hidden tests run at grading"

STATUS_TEXT = {
    "passed": "passed",
    "partial": "partly",
    "failed": "failed",
    "error": "error",
    "not_run": "not run",
    "needs_gpu": "skipped",
    "pending": "marked later",
}
STATUS_COLOUR = {
    "passed": "#1a7f37",
    "partial": "#9a6700",
    "failed": "#cf222e",
    "error": "#cf222e",
    "not_run": "#8250df",
    "needs_gpu": "#0969da",
    "pending": "#57606a",
}


@dataclass
class CheckRow:
    """One public check: which question, its status, and what to read when it did not pass."""

    question: str
    id: str
    name: str
    status: str
    points: float
    max_points: float
    #: Why it did not pass (the rubric's fail feedback, then what the test saw); "" if passed.
    message: str = ""

    @property
    def label(self) -> str:
        return f"{STATUS_TEXT.get(self.status, self.status)} (public)"


@dataclass
class CheckSummary:
    """The result of checking some or all public criteria of one notebook."""

    assignment: str
    title: str
    #: What was checked: "this kernel" in a notebook, the file name from the shell.
    source: str
    rows: list[CheckRow] = field(default_factory=list)
    #: Things the student should know that are not a check: stale cells, cell errors.
    notes: list[str] = field(default_factory=list)
    #: Why the check could not run at all (no bundle, an unknown question), if it could not.
    problem: str | None = None
    _shown_at: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def points(self) -> float:
        return round(sum(r.points for r in self.rows if r.status != "needs_gpu"), 4)

    @property
    def max_points(self) -> float:
        return round(sum(r.max_points for r in self.rows if r.status != "needs_gpu"), 4)

    @property
    def passed(self) -> bool:
        """Every check that ran passed (skipped ones aside), and there was something to run."""
        ran = [r for r in self.rows if r.status != "needs_gpu"]
        return self.problem is None and bool(ran) and all(r.status == "passed" for r in ran)

    def score_line(self) -> str:
        return f"public score: {self.points:g} / {self.max_points:g} ({PUBLIC_LABEL})"

    # -- renderings ---------------------------------------------------------------

    def text(self) -> str:
        """A plain-text table, for terminals and plain Python."""
        heading = f"{self.assignment}: {self.title}" if self.title else "dlgrader check"
        lines = [heading, f"[{PUBLIC_LABEL}]"]
        if self.problem:
            lines.append(f"check could not run: {self.problem}")
        width = max((len(r.id) for r in self.rows), default=0)
        for r in self.rows:
            points = f"{r.points:g}/{r.max_points:g}"
            lines.append(f"  {r.question:<4}{r.id:<{width}}  {r.label:<17} {points:>7}  {r.name}")
            lines += [f"        {part}" for part in r.message.splitlines()]
        if self.rows:
            lines.append(self.score_line())
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def html(self) -> str:
        """A compact HTML table, for Jupyter, VS Code and Colab (escaped throughout)."""
        return _template().render(
            summary=self,
            label=PUBLIC_LABEL,
            colours=STATUS_COLOUR,
        )

    # -- IPython's display protocol ---------------------------------------------------

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.text(), "text/html": self.html()}

    def __repr__(self) -> str:
        # Short: plain Python already printed the table; IPython shows it via the methods here.
        if self.problem:
            return f"<check: could not run: {self.problem}>"
        return f"<check {self.assignment}: {self.points:g}/{self.max_points:g}, {PUBLIC_LABEL}>"

    def __str__(self) -> str:
        return self.text()

    def _ipython_display_(self) -> None:
        """Show once per cell: ``check()`` shows itself, and may also be the cell's value."""
        from IPython import get_ipython
        from IPython.display import display

        shell = get_ipython()
        count = getattr(shell, "execution_count", None)
        if count is not None and count == self._shown_at:
            return
        self._shown_at = count
        display(self._repr_mimebundle_(), raw=True)


def rows_from(
    results: list[CriterionResult], ids: dict[str, str], gpu_reason: str
) -> list[CheckRow]:
    """Rows for scored criteria; ``ids`` maps criterion id -> question (``shapes`` -> ``q1``)."""
    return [
        CheckRow(
            question=ids.get(c.id, ""),
            id=c.id,
            name=c.name,
            status=c.status,
            points=c.points,
            max_points=c.max_points,
            message=_message(c, gpu_reason),
        )
        for c in results
    ]


def _message(c: CriterionResult, gpu_reason: str) -> str:
    if c.status == "passed":
        return ""
    if c.status == "needs_gpu":
        return f"skipped: needs a GPU, and {gpu_reason}; it is checked when graded on a GPU"
    if c.status == "not_run":
        return c.detail or "not run"
    parts = [c.feedback, c.detail]
    return "\n".join(p for p in parts if p)


_TEMPLATE = """\
<div class="dlgrader-check" style="font-family: sans-serif; font-size: 13px">
<div>{% if summary.title %}<b>{{ summary.assignment }}</b>: {{ summary.title }}\
{% else %}<b>dlgrader check</b>{% endif %}
 <span style="color:#9a6700">&mdash; {{ label }}</span></div>
{% if summary.problem %}<div style="color:#cf222e">check could not run: \
{{ summary.problem }}</div>{% endif %}
{% if summary.rows %}<table style="border-collapse: collapse; margin-top: 4px">
{% for r in summary.rows %}<tr style="border-top: 1px solid #d0d7de; vertical-align: top">
<td style="padding: 2px 8px"><code>{{ r.question }}</code></td>
<td style="padding: 2px 8px">{{ r.name }} <small>(<code>{{ r.id }}</code>)</small></td>
<td style="padding: 2px 8px; color: {{ colours.get(r.status, '#000') }}">\
<b>{{ r.label }}</b></td>
<td style="padding: 2px 8px; text-align: right">{{ '%g' % r.points }}/{{ '%g' % r.max_points }}</td>
<td style="padding: 2px 8px">{% for line in r.message.splitlines() %}{{ line }}\
{% if not loop.last %}<br>{% endif %}{% endfor %}</td>
</tr>
{% endfor %}</table>
<div style="margin-top: 4px">{{ summary.score_line() }}</div>{% endif %}
{% for n in summary.notes %}<div style="color:#9a6700">note: {{ n }}</div>
{% endfor %}</div>
"""


def _template():  # noqa: ANN202 - a jinja2.Template, imported only when HTML is wanted
    from jinja2 import Environment

    return Environment(autoescape=True).from_string(_TEMPLATE)
