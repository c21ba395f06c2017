"""Read a submitted notebook safely and prepare it for grading.

A submission can be anything: invalid JSON or UTF-8, a byte-order mark, JSON
nested a million deep, an nbformat v3 file, a kernelspec for another language.
Each becomes a :class:`SubmissionError` that names the file and says what to
do, never a traceback.

Grading parameters follow papermill's convention: the cell tagged
``parameters`` holds the student's defaults, and a cell tagged
``injected-parameters`` is inserted after it with the assignment's values.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import nbformat

from grader import safe_ast
from grader.errors import SubmissionError

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
#: Leading bytes of archives students submit by mistake: named, never unpacked.
ARCHIVES = ((b"PK\x03\x04", "zip"), (b"\x1f\x8b", "gzip"), (b"7z\xbc\xaf", "7-Zip"))
PARAMETERS_TAG = "parameters"
#: 200 arrays or objects opened in a row (a real notebook nests about 6 deep).
DEEP_NESTING = re.compile(rb'(?:[\[{]\s*(?:"[^"\\]{0,200}"\s*:\s*)?){200}')
INJECTED_TAG = "injected-parameters"


def read_submission(path: Path) -> tuple[nbformat.NotebookNode, bytes]:
    """The notebook at ``path`` as nbformat v4, and its raw bytes (for the hash)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SubmissionError(f"{path}: cannot read the file ({exc.strerror})") from None
    if size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(
            f"{path}: the notebook is {size / 2**20:.0f} MiB; clear its outputs and submit again"
        )
    raw = path.read_bytes()
    if not raw.strip():
        raise SubmissionError(f"{path}: the file is empty; save the notebook and submit again")
    for magic, kind in ARCHIVES:
        if raw.startswith(magic):
            raise SubmissionError(
                f"{path}: a {kind} archive, not a notebook; unpack it and submit the .ipynb file"
            )
    if DEEP_NESTING.search(raw):
        # Refused before parsing: a RecursionError deep inside the JSON parser can leave
        # this interpreter's recursion bookkeeping broken (CPython 3.11), and every later
        # ast.parse in the same batch worker would fail.
        raise SubmissionError(f"{path}: the JSON is nested too deeply to be a notebook")
    try:
        text = raw.decode("utf-8-sig")
        data = json.loads(text)
    except UnicodeDecodeError:
        raise SubmissionError(
            f"{path}: not UTF-8 text; save the notebook from Jupyter again"
        ) from None
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            f"{path}: not a notebook (invalid JSON at line {exc.lineno}); "
            "save it from Jupyter again rather than editing the file by hand"
        ) from None
    except RecursionError:
        raise SubmissionError(f"{path}: the JSON is nested too deeply to be a notebook") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise SubmissionError(f"{path}: valid JSON, but not a Jupyter notebook (no cells)")
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(nb)
    except RecursionError:
        raise SubmissionError(f"{path}: the JSON is nested too deeply to be a notebook") from None
    except nbformat.ValidationError as exc:
        where = "/".join(str(p) for p in list(exc.absolute_path)[:4]) or "top level"
        raise SubmissionError(
            f"{path}: not a valid notebook ({where}: {exc.message[:200]}); "
            "open and save it in Jupyter to repair it"
        ) from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds on odd input
        raise SubmissionError(
            f"{path}: cannot be read as a notebook ({type(exc).__name__})"
        ) from None
    return nb, raw


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def prepare(nb: nbformat.NotebookNode, parameters: dict[str, Any]) -> nbformat.NotebookNode:
    """A copy of ``nb`` ready to run: parameters injected, the kernelspec ours."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.metadata.pop("kernelspec", None)  # e.g. julia-1.9: the grader decides the kernel
    nb.cells = [c for c in nb.cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    if parameters:
        cell = nbformat.v4.new_code_cell(
            source=parameter_source(parameters), metadata={"tags": [INJECTED_TAG]}
        )
        nb.cells.insert(_parameters_index(nb) + 1, cell)
    return nb


def _parameters_index(nb: nbformat.NotebookNode) -> int:
    """Index of the ``parameters`` cell, or -1 to insert at the top (papermill's rule)."""
    for index, cell in enumerate(nb.cells):
        if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            return index
    return -1


def parameter_source(parameters: dict[str, Any]) -> str:
    lines = ["# Parameters injected by the grader"]
    lines += [f"{name} = {value!r}" for name, value in parameters.items()]
    return "\n".join(lines)


def names_used(nb: nbformat.NotebookNode) -> set[str]:
    """Every name the notebook's own code cells assign or read (the grader's cell excluded).

    Tests use it to tell a hyperparameter the notebook really uses from one only the
    grader's injected cell defined. Parsed, never run; a cell that does not parse (a
    syntax error, IPython magics) is read line by line, so one bad line hides only itself.
    """
    found: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code" or INJECTED_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        for tree in _parsed(cell.source):
            found.update(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
    return found


def _parsed(source: str) -> list[ast.AST]:
    try:
        return [safe_ast.parse(source)]
    except (SyntaxError, ValueError):
        trees = []
        for line in source.splitlines():
            try:
                trees.append(safe_ast.parse(line.strip()))
            except (SyntaxError, ValueError):
                continue
        return trees


#: What a skipped cell's source becomes: a comment, so cell numbers stay as the student's.
SKIPPED_SOURCE = "# dlgrader: cell {number} skipped when the notebook was run again ({why})"


def skip_cells(nb: nbformat.NotebookNode, number: int, after: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` with cell ``number`` (1-based) emptied, and those after it if
    ``after`` is ``"skip"``: for a replay after that cell killed the kernel."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or index < number or (index > number and after != "skip"):
            continue
        why = "it stopped the kernel" if index == number else f"it follows cell {number}"
        cell.source = SKIPPED_SOURCE.format(number=index, why=why)
    return nb
