"""Criterion `train_step` of rubrics/backprop.yaml, 4 points.

Ported from dlgrader's hidden/test_training.py::test_train_takes_gradient_steps.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = "train_step"
points = 4


@test_case(points=4, hidden=True)
def train_step(env):
    import backprop_checks

    backprop_checks.check(env, "train_step")
