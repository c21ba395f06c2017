"""A lab's declared interface: tests rely on it and on nothing else (issue 16).

``nb.setting`` gives an optional name's value as the notebook really uses it, or the
lab's default with a note; ``names_used`` reads which names the notebook's own cells use,
so an injected grading parameter alone does not count as the student's.
"""

from __future__ import annotations

import nbformat
import pytest
from pydantic import ValidationError

from grader.config import Interface
from grader.notebook import names_used, prepare
from grader.testing.fixture import Notebook
from grader.testing.live import live_notebook

DEFAULTS = {"EPOCHS": 6, "LEARNING_RATE": 0.5}


def notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_names_used_ignores_the_injected_cell_and_survives_bad_cells():
    nb = prepare(
        notebook("for epoch in range(3):\n    losses.append(epoch)", "%time x = 1\ny = x"),
        {"EPOCHS": 6},
    )
    used = names_used(nb)
    assert {"epoch", "losses", "range", "y", "x"} <= used
    assert "EPOCHS" not in used  # only the grader's injected cell names it
    assert "EPOCHS" in names_used(prepare(notebook("for e in range(EPOCHS): pass"), {"EPOCHS": 6}))


def test_setting_uses_the_notebooks_value_only_when_its_cells_use_it():
    cells = ["EPOCHS = 6\nLEARNING_RATE = 0.1\nNUM = 3"]  # as if the grader injected EPOCHS
    with live_notebook(cells) as (nb, _):
        context = {"interface_defaults": DEFAULTS, "notebook_names": frozenset({"LEARNING_RATE"})}
        view = Notebook(nb._bridge, context)
        assert view.setting("LEARNING_RATE") == 0.1
        assert view.notes == []
        assert view.setting("EPOCHS") == 6  # the default, said so
        assert "does not use EPOCHS" in view.notes[0]
        assert view.setting("NUM") == 3  # not declared optional: read as it is
        with pytest.raises(Exception, match="defines no"):
            view.setting("MISSING_REQUIRED")


def test_a_name_cannot_be_both_required_and_optional():
    with pytest.raises(ValidationError, match="both required and optional"):
        Interface(required=[{"name": "EPOCHS"}], optional=[{"name": "EPOCHS", "default": 3}])
    interface = Interface(required=[{"name": "train"}], optional=[{"name": "EPOCHS", "default": 3}])
    assert interface.defaults() == {"EPOCHS": 3} and interface.names() == ["train", "EPOCHS"]
