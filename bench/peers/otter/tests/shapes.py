"""Criterion `shapes` of rubrics/backprop.yaml, 3 points.

Ported from dlgrader's public/test_basics.py: init_params and forward shapes.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = "shapes"
points = 3


@test_case(points=3, hidden=False)
def shapes(env):
    import backprop_checks

    backprop_checks.check(env, "shapes")
