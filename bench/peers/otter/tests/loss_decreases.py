"""Criterion `loss_decreases` of rubrics/backprop.yaml, 2 points.

Ported from dlgrader's hidden/test_training.py::test_training_loss_decreases.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = "loss_decreases"
points = 2


@test_case(points=2, hidden=True)
def loss_decreases(env):
    import backprop_checks

    backprop_checks.check(env, "loss_decreases")
