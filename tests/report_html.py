"""Reading a rendered report as a browser would: its elements, and Markdown turned into
HTML by a permissive viewer (markdown-it with raw HTML allowed)."""

from __future__ import annotations

from html.parser import HTMLParser

from markdown_it import MarkdownIt


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside each kind of element."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.text_in: dict[str, list[str]] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("img", "meta", "br", "hr", "input", "link"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open.pop() != tag:
                pass

    def handle_data(self, data):
        for tag in set(self.open):
            self.text_in.setdefault(tag, []).append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def text(self, tag: str) -> str:
        return "".join(self.text_in.get(tag, []))


def markdown_to_html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def assert_inert(html: str) -> None:
    """No element or attribute that could run code or load anything but our figures."""
    elements = Elements(html)
    assert elements.named("script") == [], "a <script> element reached the page"
    handlers = [(t, k) for t, a in elements.tags for k in a if k.lower().startswith("on")]
    assert handlers == [], f"event-handler attributes reached the page: {handlers}"
    sources = [a.get("src") for a in elements.named("img")]
    assert all(s and s.startswith("figures/") for s in sources), f"unexpected <img>: {sources}"
    assert elements.named("a") == [], "a link reached the page"
    assert elements.named("b") == [], "student markup reached the page"
