"""Hidden test for the MLP lab: the figure shows the training loss and accuracy per epoch.

The kernel reports the data of every line on ``fig`` (probe ``keras.figure_curves``); here
they are compared with ``history.history``: a curve "is" the loss if its values are the
per-epoch losses, whatever it is called. Each curve's panel must say what it shows (a
y-axis label, a title or a legend entry).
"""

from __future__ import annotations

import numpy as np

from grader import checks
from grader.bridge import StudentError


def plotted_curves(nb) -> list[dict]:
    assert nb.exists("fig"), (
        "the notebook has no `fig`: keep the figure of the training curves in a variable "
        "named fig (fig, axes = plt.subplots(1, 2))"
    )
    try:
        axes = nb.probe("keras.figure_curves", figure=nb.ref("fig"))
    except StudentError:
        raise AssertionError("`fig` is not a matplotlib figure") from None
    assert type(axes) is list and all(type(a) is dict for a in axes), "could not read `fig`"
    return axes


def find_curve(axes: list[dict], values: np.ndarray) -> dict | None:
    """The panel holding a line whose y values are ``values`` (as floats), if any."""
    for panel in axes:
        for line in panel.get("lines") or []:
            y = line.get("y")
            if type(y) is np.ndarray and y.shape == values.shape:
                if bool(np.all(np.abs(y - values) <= 1e-6 * np.maximum(1.0, np.abs(values)))):
                    return panel
    return None


def test_training_curves(nb):
    axes = plotted_curves(nb)
    curves = checks.fit_history(nb, ("loss", "accuracy"), epochs=None)
    nb.record("panels", len(axes))
    for key, what in (("loss", "training loss"), ("accuracy", "training accuracy")):
        values = np.asarray(curves[key])
        panel = find_curve(axes, values)
        assert panel is not None, (
            f"`fig` has no curve of the {what} per epoch: plot history.history[{key!r}] "
            "(the lab asks for both the loss and the accuracy)"
        )
        assert panel.get("ylabel") or panel.get("title") or panel.get("legend"), (
            f"the panel with the {what} says nowhere what it shows: label its y axis"
        )
