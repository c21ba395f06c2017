"""Criterion `loss` of rubrics/backprop.yaml, 2 points.

Ported from dlgrader's hidden/test_building_blocks.py::test_loss_matches_mse.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = "loss"
points = 2


@test_case(points=2, hidden=True)
def loss(env):
    import backprop_checks

    backprop_checks.check(env, "loss")
