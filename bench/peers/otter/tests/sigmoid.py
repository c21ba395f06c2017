"""Criterion `sigmoid` of rubrics/backprop.yaml, 3 points.

Ported from dlgrader's hidden/test_building_blocks.py::test_sigmoid_values.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = "sigmoid"
points = 3


@test_case(points=3, hidden=True)
def sigmoid(env):
    import backprop_checks

    backprop_checks.check(env, "sigmoid")
