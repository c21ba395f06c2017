"""Criterion `xor_solved` of rubrics/backprop.yaml (5 points, banded): dlgrader's
hidden/test_training.py::test_xor_solved. Otter has no bands, so each band is a case: at
least half the seeds 1.5, three quarters another 1.5, 15 of 16 the last 2 (the rubric's
0.3, 0.6 and 1.0 of 5). The 16 trainings run once; the cases read the same fraction."""

from otter.test_files import test_case

OK_FORMAT = False

name = "xor_solved"
points = 5


@test_case(points=1.5, hidden=True)
def xor_half(env):
    import backprop_checks

    assert backprop_checks.xor_fraction_once(env) >= 0.5


@test_case(points=1.5, hidden=True)
def xor_three_quarters(env):
    import backprop_checks

    assert backprop_checks.xor_fraction_once(env) >= 0.75


@test_case(points=2, hidden=True)
def xor_fifteen_of_sixteen(env):
    import backprop_checks

    assert backprop_checks.xor_fraction_once(env) >= 15 / 16
