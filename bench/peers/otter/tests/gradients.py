"""Criterion `gradients` of rubrics/backprop.yaml, 11 points.

Ported from dlgrader's hidden/test_network.py: gradient check and exact gradients.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = "gradients"
points = 11


@test_case(points=11, hidden=True)
def gradients(env):
    import backprop_checks

    backprop_checks.check(env, "gradients")
