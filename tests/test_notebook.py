"""Unreadable submissions give one clear error naming the file; parameters are injected."""

import json
from pathlib import Path

import nbformat
import pytest

from grader.errors import SubmissionError
from grader.notebook import INJECTED_TAG, prepare, read_submission


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"{not json", "invalid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"hello": 1}', "not a Jupyter notebook"),
        (
            json.dumps(
                {"cells": "nope", "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
            ).encode(),
            "not a valid notebook",
        ),
    ],
)
def test_broken_files_name_the_file(tmp_path, content, says):
    path = tmp_path / "bad; $(touch X).ipynb"
    path.write_bytes(content)
    with pytest.raises(SubmissionError) as info:
        read_submission(path)
    assert str(path) in str(info.value) and says in str(info.value)
    assert not (tmp_path / "X").exists()


def test_bom_and_v3_notebooks_are_read(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    path = tmp_path / "bom.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + nbformat.writes(nb).encode())
    read, raw = read_submission(path)
    assert read.cells[0].source == "x = 1" and raw.startswith(b"\xef\xbb\xbf")


def test_parameters_go_after_the_parameters_cell_and_kernelspec_is_dropped():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import os"),
            nbformat.v4.new_code_cell("EPOCHS = 10", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell("train(EPOCHS)"),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "julia-1.9", "display_name": "Julia", "language": "julia"}
    ready = prepare(nb, {"EPOCHS": 1, "SUBSET": [1, 2]})
    assert [c.source.splitlines()[-1] for c in ready.cells] == [
        "import os",
        "EPOCHS = 10",
        "SUBSET = [1, 2]",
        "train(EPOCHS)",
    ]
    assert INJECTED_TAG in ready.cells[2].metadata["tags"]
    assert "kernelspec" not in ready.metadata and "kernelspec" in nb.metadata


def test_without_parameters_cell_values_go_first():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(N)")])
    assert prepare(nb, {"N": 3}).cells[0].source.endswith("N = 3")


def test_a_deeply_nested_file_leaves_the_interpreter_able_to_parse(tmp_path):
    """Refused before the JSON parser recurses: a RecursionError there broke every later
    ast.parse in the same batch worker ("AST constructor recursion depth mismatch")."""
    import ast

    deep = tmp_path / "deep.ipynb"
    deep.write_bytes(b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    with pytest.raises(SubmissionError, match="nested too deeply"):
        read_submission(deep)
    ast.parse(Path(__file__).read_text(encoding="utf-8"))
