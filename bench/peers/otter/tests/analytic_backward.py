"""Criterion `analytic_backward` of rubrics/backprop.yaml, 3 points.

Ported from dlgrader's hidden/test_network.py::test_backward_is_analytic.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = "analytic_backward"
points = 3


@test_case(points=3, hidden=True)
def analytic_backward(env):
    import backprop_checks

    backprop_checks.check(env, "analytic_backward")
