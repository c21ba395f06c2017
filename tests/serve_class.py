"""A graded toy class in a gradebook, without kernels: what the serve tests and the
benchmark review. The toy rubric has a viva and a write-up marked by a person."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import nbformat
from test_marks import TOY, manual_course, manual_rubric, result_for

from grader.batch.gradebook import Gradebook
from grader.report.render import write_reports

#: A student's output that would run if it were rendered as HTML.
PAYLOAD = "<script>document.title='pwned';document.body.dataset.pwned=1</script>"


def tiny_png() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (255, 127, 14)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def student_notebook(path: Path, student: str) -> None:
    nb = nbformat.read(TOY / "solutions" / "toy.ipynb", as_version=4)
    cell = nbformat.v4.new_code_cell(f"print({PAYLOAD!r})")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=PAYLOAD + "\n"),
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": PAYLOAD,
                "image/svg+xml": "<svg onload=alert(1)/>",
                "text/plain": "<IPython.core.display.HTML object>",
            },
        ),  # fmt: skip
        nbformat.v4.new_output("display_data", data={"image/png": tiny_png()}),
    ]
    nb.cells.append(cell)
    nb.cells.append(nbformat.v4.new_markdown_cell(f"My write-up {PAYLOAD}"))
    nbformat.write(nb, path)


def graded_class(root: Path, students: int = 4, reports: bool = True) -> tuple[Path, Path]:
    """(course folder, batch out folder with gradebook.sqlite) for s01..sNN; s04 fails
    scale(), s02 is flagged."""
    course = manual_course(root)
    rubric = manual_rubric(root)
    out = root / "out"
    subs = root / "subs"
    subs.mkdir(parents=True, exist_ok=True)
    with Gradebook(out / "gradebook.sqlite") as book:
        for n in range(1, students + 1):
            student = f"s{n:02d}"
            notebook = subs / f"{student}.ipynb"
            student_notebook(notebook, student)
            result = result_for(rubric, student, failing=("scale",) if n % 4 == 0 else ())
            sha = hashlib.sha256(notebook.read_bytes()).hexdigest()
            submission = result.submission.model_copy(update={"path": str(notebook), "sha256": sha})
            update: dict[str, object] = {"submission": submission}
            if n % 4 == 2:
                update["flags"] = ["similar to s01"]
            result = result.model_copy(update=update)
            folder = out / student
            if reports:
                folder.mkdir(parents=True, exist_ok=True)
                write_reports(result, folder)
            book.record(student, result, folder / "results.json", result.model_dump_json())
    return course, out
