"""Criterion `init_params` of rubrics/backprop.yaml, 4 points.

Ported from dlgrader's hidden/test_building_blocks.py: init_params shapes and seeding.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = "init_params"
points = 4


@test_case(points=4, hidden=True)
def init_params(env):
    import backprop_checks

    backprop_checks.check(env, "init_params")
