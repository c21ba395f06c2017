"""prepared_inputs: the grader's inputs through the notebook's own preprocess(x), if any;
reported_number: the notebook's own number to compare with, when it is one."""

from __future__ import annotations

import numpy as np

from grader.checks import prepared_inputs, reported_number
from grader.probes.wire import Ref

CELLS = [
    """
import numpy as np

MEAN, STD = 0.5, 0.25

def preprocess(x):
    return (np.asarray(x, dtype=np.float32) - MEAN) / STD

def identity(value):
    return value

def drop_hook():
    global preprocess
    del preprocess

plain, as_scalar, as_array = 0.91, np.float32(0.5), np.array([0.25])
count, not_finite, flag, text, many = 3, float("nan"), True, "0.9", np.array([0.1, 0.2])
table = {"head": 0.6, "fine_tuned": np.float64(0.7), "scratch": None}
"""
]


def test_inputs_go_through_the_notebooks_preprocess_then_stay_as_they_are(nb):
    x = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    prepared = prepared_inputs(nb, x)
    assert isinstance(prepared, Ref)  # kept in the kernel, for the model to take
    assert np.allclose(nb.call("identity", prepared), (x - 0.5) / 0.25)
    nb.call("drop_hook")
    assert prepared_inputs(nb, x) is x  # no hook: the lab's preparation, unchanged


def test_reported_number_reads_one_finite_number_or_nothing(nb):
    assert reported_number(nb, "plain") == 0.91
    assert reported_number(nb, "as_scalar") == 0.5  # NumPy scalars and one-element arrays
    assert reported_number(nb, "as_array") == 0.25
    assert reported_number(nb, "count") == 3.0
    for name in ("not_finite", "flag", "text", "many", "undefined_name"):
        assert reported_number(nb, name) is None, name
    assert reported_number(nb, "table", "head") == 0.6  # an entry of a dictionary
    assert reported_number(nb, "table", "fine_tuned") == 0.7
    for key in ("scratch", "missing"):
        assert reported_number(nb, "table", key) is None, key
    assert reported_number(nb, "plain", "head") is None  # not a dictionary
