"""Seeding and repeatability: seed the kernel's generators, fingerprint them, compare runs.

A fingerprint is a few draws from each global generator (``random``, NumPy,
and torch / TensorFlow when the notebook imported them). Seeding, drawing,
seeding again and drawing again must give the same draws; the comparison is
exact and happens here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from grader.checks._common import float_list
from grader.testing.fixture import Notebook

Fingerprint = dict[str, list[float]]


def seed_everything(nb: Notebook, seed: int = 0) -> list[str]:
    """Seed every generator the kernel has loaded; returns their names (``random``...)."""
    raw = nb.probe("env.seed_all", seed=int(seed))
    if type(raw) is not list or not all(type(name) is str for name in raw):
        raise AssertionError("could not read which generators were seeded")
    return raw


def rng_fingerprint(nb: Notebook, n: int = 3) -> Fingerprint:
    """``n`` draws from each global generator of the kernel (this advances them)."""
    raw = nb.probe("env.rng_fingerprint", n=int(n))
    if type(raw) is not dict:
        raise AssertionError("could not read the random number generators' draws")
    return {str(name): float_list(draws, f"the {name} draws") for name, draws in raw.items()}


def seeded_fingerprints(nb: Notebook, seed: int = 0, n: int = 3) -> tuple[Fingerprint, Fingerprint]:
    """Two fingerprints, each taken right after seeding with ``seed``: they should be equal."""
    seed_everything(nb, seed)
    first = rng_fingerprint(nb, n)
    seed_everything(nb, seed)
    return first, rng_fingerprint(nb, n)


def expect_same_draws(
    first: Mapping[str, Sequence[float]], second: Mapping[str, Sequence[float]]
) -> None:
    """Both fingerprints hold the same generators and exactly the same draws."""
    if set(first) != set(second):
        raise AssertionError(
            f"the runs used different generators: {sorted(first)} and {sorted(second)}"
        )
    for name in sorted(first):
        a = np.asarray(first[name], dtype=np.float64)
        b = np.asarray(second[name], dtype=np.float64)
        if a.shape != b.shape or not bool(np.all(a == b)):
            raise AssertionError(f"the {name} generator gave different numbers in the two runs")


def expect_repeatable(
    first: Sequence[float] | np.ndarray,
    second: Sequence[float] | np.ndarray,
    *,
    atol: float = 0.0,
    what: str = "the two seeded runs",
) -> None:
    """Two results of the same seeded computation agree (exactly by default; NaN fails)."""
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"{what} gave results of different shapes {a.shape} and {b.shape}")
    if bool(np.isnan(a).any() or np.isnan(b).any()):
        raise AssertionError(f"{what} gave NaN, which cannot be compared")
    difference = np.abs(a - b)
    if bool(np.all(difference <= atol)):
        return
    worst = float(np.max(difference))
    raise AssertionError(f"{what} differ by up to {worst:.3g}: the run is not repeatable")
