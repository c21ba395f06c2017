"""fit_history: a Keras History's curves, one per epoch of what the notebook really ran."""

from __future__ import annotations

import pytest

from grader.checks import fit_history
from grader.testing.fixture import Notebook

CELLS = [
    """
class History:  # what keras.Model.fit returns, as far as the check reads it
    def __init__(self, **curves):
        self.history = curves

EPOCHS = 3
history = History(loss=[1.0, 0.8, 0.7], val_loss=[1.1, 0.9, 0.8])
as_dict = {"loss": [0.9, 0.5], "accuracy": [0.4, 0.6]}
ragged = History(loss=[1.0, 0.8, 0.7], val_loss=[1.1])
words = History(loss=["high", "low"])
"""
]


def with_source(nb: Notebook, names: set[str]) -> Notebook:
    """The same kernel, seen as graded: only ``names`` appear in the notebook's own cells."""
    return Notebook(nb._bridge, {"notebook_names": frozenset(names)})


def test_a_history_of_the_notebooks_epochs_passes(nb):
    curves = fit_history(with_source(nb, {"EPOCHS", "history"}), ("loss", "val_loss"))
    assert curves == {"loss": [1.0, 0.8, 0.7], "val_loss": [1.1, 0.9, 0.8]}


def test_hard_coded_epochs_are_what_the_notebook_ran(nb):
    graded = with_source(nb, {"as_dict"})  # EPOCHS only injected: the notebook never reads it
    assert fit_history(graded, ("loss", "accuracy"), name="as_dict")["loss"] == [0.9, 0.5]
    assert graded.notes == [
        "your notebook does not use EPOCHS: its 2 epochs of training were checked"
    ]


def test_wrong_histories_fail_naming_the_cause(nb):
    graded = with_source(nb, {"EPOCHS", "history", "as_dict", "ragged", "words"})
    with pytest.raises(AssertionError, match=r"has 2 values, one per epoch of 3 \(EPOCHS\)"):
        fit_history(graded, name="as_dict")
    with pytest.raises(AssertionError, match="different lengths"):
        fit_history(graded, ("loss", "val_loss"), name="ragged")
    with pytest.raises(AssertionError, match="no 'val_accuracy': train with validation_split"):
        fit_history(graded, ("loss", "val_accuracy"))
    with pytest.raises(AssertionError, match="not a list of numbers"):
        fit_history(graded, name="words")
    with pytest.raises(AssertionError, match="no `hist`: keep what model.fit returns"):
        fit_history(graded, name="hist")
