"""prepared_inputs: the grader's inputs through the notebook's own preprocess(x), if any."""

from __future__ import annotations

import numpy as np

from grader.checks import prepared_inputs
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
"""
]


def test_inputs_go_through_the_notebooks_preprocess_then_stay_as_they_are(nb):
    x = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    prepared = prepared_inputs(nb, x)
    assert isinstance(prepared, Ref)  # kept in the kernel, for the model to take
    assert np.allclose(nb.call("identity", prepared), (x - 0.5) / 0.25)
    nb.call("drop_hook")
    assert prepared_inputs(nb, x) is x  # no hook: the lab's preparation, unchanged
