"""Criterion `basic_values` of rubrics/backprop.yaml, 2 points.

Ported from dlgrader's public/test_basics.py: sigmoid and loss by hand.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = "basic_values"
points = 2


@test_case(points=2, hidden=False)
def basic_values(env):
    import backprop_checks

    backprop_checks.check(env, "basic_values")
