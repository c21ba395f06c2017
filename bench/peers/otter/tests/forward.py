"""Criterion `forward` of rubrics/backprop.yaml, 5 points.

Ported from dlgrader's hidden/test_network.py::test_forward_matches_reference.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = "forward"
points = 5


@test_case(points=5, hidden=True)
def forward(env):
    import backprop_checks

    backprop_checks.check(env, "forward")
