"""Small numeric problems for the NumPy assignments, generated, never downloaded."""

from __future__ import annotations

import numpy as np


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    """The XOR truth table: X (4, 2) and Y (4, 1), float64."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return x, np.array([[0], [1], [1], [0]], dtype=np.float64)


def regression_data(n: int, n_in: int, n_out: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs (standard normal) and targets in (0.05, 0.95): float64, seeded.

    Targets stay inside a sigmoid's range, so a network can fit them and a gradient
    check sees no saturated units.
    """
    rng = np.random.default_rng([seed, n, n_in, n_out])
    return rng.normal(size=(n, n_in)), rng.uniform(0.05, 0.95, size=(n, n_out))
