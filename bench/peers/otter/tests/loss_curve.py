"""Criterion `loss_curve` of rubrics/backprop.yaml, 2 points.

Ported from dlgrader's hidden/test_training.py::test_loss_curve_recorded.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = "loss_curve"
points = 2


@test_case(points=2, hidden=True)
def loss_curve(env):
    import backprop_checks

    backprop_checks.check(env, "loss_curve")
