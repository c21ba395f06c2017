"""Seeding: the kernel's generators repeat after seeding, and only loaded libraries are seeded."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import (
    expect_repeatable,
    expect_same_draws,
    rng_fingerprint,
    seed_everything,
    seeded_fingerprints,
)

CELLS = [
    """
import sys
import numpy as np
import torch

def noisy_sum(seed=None):
    '''A student's "experiment": repeatable only if seeded.'''
    if seed is not None:
        torch.manual_seed(seed)
    return float(torch.randn(5).sum() + np.random.rand())

tensorflow_loaded = lambda: "tensorflow" in sys.modules
"""
]


def test_seeding_makes_the_draws_repeat(nb):
    seeded = seed_everything(nb, 0)
    assert seeded == ["random", "numpy", "torch"]
    first, second = seeded_fingerprints(nb, seed=42, n=4)
    assert set(first) == {"random", "numpy", "torch"} and len(first["torch"]) == 4
    expect_same_draws(first, second)


def test_unseeded_draws_differ_and_are_caught(nb):
    seed_everything(nb, 42)
    first = rng_fingerprint(nb)
    second = rng_fingerprint(nb)  # the generators moved on
    with pytest.raises(AssertionError, match="generator gave different numbers in the two runs"):
        expect_same_draws(first, second)
    with pytest.raises(AssertionError, match="the runs used different generators"):
        expect_same_draws(first, {"random": first["random"]})


def test_tensorflow_is_not_imported_just_to_seed_it(nb):
    seed_everything(nb, 1)
    rng_fingerprint(nb)
    assert nb.call("tensorflow_loaded") is False


def test_a_seeded_student_computation_repeats(nb):
    seed_everything(nb, 3)
    first = nb.call("noisy_sum", 5)
    seed_everything(nb, 3)
    expect_repeatable([first], [nb.call("noisy_sum", 5)])
    with pytest.raises(AssertionError, match="differ by up to"):
        expect_repeatable([first], [nb.call("noisy_sum")], what="two runs of noisy_sum")
    with pytest.raises(AssertionError, match="different shapes"):
        expect_repeatable([1.0, 2.0], [1.0])
    with pytest.raises(AssertionError, match="gave NaN"):
        expect_repeatable(np.array([np.nan]), np.array([np.nan]))


def test_environment_reports_what_the_kernel_has(nb):
    info = nb.probe("env.accelerators")
    assert info["torch_imported"] is True and info["tensorflow_imported"] is False
    assert isinstance(info["cuda_available"], bool)
    versions = nb.probe("env.versions")
    assert versions["torch"].startswith("2.") and "tensorflow" not in versions
