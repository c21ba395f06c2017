"""The HTML report in a real browser: it renders, it shows the figure, student text stays text.

Headless Chromium loads the written report from disk, as a student opening it
would. ``--dump-dom`` gives the DOM after loading, so a payload that ran (and set
the title or a data attribute) would show there; ``--screenshot`` shows that the
page and its figure actually draw.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from browser import run_chromium

from grader.report import samples
from grader.report.render import write_reports
from grader.results import Figure

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

WINDOW = (1200, 3000)
FIGURE_PATH = "figures/cell9_1.png"
ORANGE = np.array([1.0, 0.498, 0.055])  # matplotlib's second line colour, C1
SCORE_BAR = np.array([0x24, 0x50, 0x8F]) / 255


class Tags(HTMLParser):
    """The start tags of a page, with their attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def draw_figure(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=100)
    epochs = np.arange(1, 21)
    ax.plot(epochs, 2 / np.sqrt(epochs), label="train loss")
    ax.plot(epochs, 2.2 / np.sqrt(epochs) + 0.1, label="validation loss", linewidth=4)
    ax.legend()
    fig.savefig(path)
    plt.close(fig)


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    draw_figure(out / FIGURE_PATH)
    result = samples.hostile()
    figure = Figure(cell=9, path=FIGURE_PATH, width=640, height=480)
    execution = result.execution.model_copy(update={"figures": [figure]})
    write_reports(result.model_copy(update={"execution": execution}), out)
    return out


@pytest.mark.parametrize("page", ["report.html", "report.instructor.html"])
def test_dom_shows_the_report_and_no_payload_ran(chromium, report_dir, tmp_path, page):
    done = run_chromium(chromium, tmp_path / "profile", "--dump-dom", (report_dir / page).as_uri())
    dom = done.stdout
    assert done.returncode == 0 and "<main>" in dom, f"Chromium failed: {done.stderr[-500:]}"
    title = dom.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith("Backpropagation from scratch — &lt;script&gt;"), title
    tags = Tags(dom).found
    body = next(attrs for tag, attrs in tags if tag == "body")
    assert "data-pwned" not in body, f"a payload ran and marked the page: {body}"
    assert [t for t, _ in tags if t == "script"] == [], "a <script> element is in the DOM"
    handlers = [(t, k) for t, attrs in tags for k in attrs if k.startswith("on")]
    assert handlers == [], f"event handlers are in the DOM: {handlers}"
    images = [attrs.get("src") for tag, attrs in tags if tag == "img"]
    assert images == [FIGURE_PATH], images
    score = "3.5 / 13" if page == "report.html" else "6.5 / 16"
    assert f'<p class="total" id="score-total">{score} ' in dom
    assert dom.count('<tr class="st-') == len(samples.hostile().criteria)
    assert "&lt;script&gt;document.title='pwned'" in dom, "student text shows as text"


def test_screenshot_draws_the_page_and_the_figure(chromium, report_dir, tmp_path):
    shot = tmp_path / "report.png"
    done = run_chromium(
        chromium,
        tmp_path / "profile",
        f"--screenshot={shot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        (report_dir / "report.html").as_uri(),
    )
    assert shot.is_file() and shot.stat().st_size > 10_000, f"no screenshot: {done.stderr[-500:]}"
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])
    assert pixels.std() > 0.05, "the screenshot is blank"

    def share_near(colour: np.ndarray) -> float:
        return float((np.abs(pixels - colour).max(axis=-1) < 0.06).mean())

    assert share_near(SCORE_BAR) > 0.001, "the inline CSS (score bar) did not apply"
    assert share_near(ORANGE) > 0.0002, "the figure did not load"
