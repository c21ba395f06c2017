"""Criterion `sigmoid_stable` of rubrics/backprop.yaml, 4 points.

Ported from dlgrader's hidden/test_building_blocks.py::test_sigmoid_no_overflow.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = "sigmoid_stable"
points = 4


@test_case(points=4, hidden=True)
def sigmoid_stable(env):
    import backprop_checks

    backprop_checks.check(env, "sigmoid_stable")
