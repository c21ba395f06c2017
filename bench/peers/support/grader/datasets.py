"""``from grader.datasets import xor_data`` for the peers' kernels (grader.datasets.small)."""

from backprop_checks import regression_data, xor_data

__all__ = ["regression_data", "xor_data"]
