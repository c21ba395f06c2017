"""Hidden tests for the neurons lab: the McCulloch-Pitts neuron and its logic gates.

Weights, thresholds and inputs are drawn here; the expected outputs are computed here
(sum of w * x at least the threshold). Gates are checked twice: by evaluating the
student's (weights, threshold) with that formula in the grader, and through the
student's own ``mcp_neuron``.
"""

from __future__ import annotations

import itertools

import numpy as np

TABLES = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "NOR": [1, 0, 0, 0],
    "NOT": [1, 0],
}


def reference_mcp(x: np.ndarray, w: np.ndarray, threshold: float) -> int:
    return int(float(np.dot(x, w)) >= threshold)


def _binary(value: object, what: str) -> int:
    """The neuron's output as 0/1, or a failure saying what came back instead."""
    assert not isinstance(value, bool | np.bool_), (
        f"{what} returned {value}: return the int 1 or 0, not True or False"
    )
    assert isinstance(value, int | np.integer) and value in (0, 1), (
        f"{what} returned {value!r:.40}: the neuron's output must be the int 0 or 1"
    )
    return int(value)


def test_mcp_neuron_random(nb):
    rng = np.random.default_rng(1943)
    for n_inputs in (1, 2, 3, 5):
        for _ in range(6):
            w = rng.integers(-3, 4, size=n_inputs)
            x = rng.integers(0, 2, size=n_inputs)
            # Half the cases sit exactly on the threshold: the neuron must fire there.
            threshold = int(np.dot(x, w)) + int(rng.integers(-1, 2))
            got = _binary(nb.call("mcp_neuron", x.tolist(), w.tolist(), threshold), "mcp_neuron")
            expected = reference_mcp(x, w, threshold)
            assert got == expected, (
                f"mcp_neuron(x={x.tolist()}, w={w.tolist()}, threshold={threshold}) gave {got}, "
                f"expected {expected}: fire (1) when sum(w * x) >= threshold"
            )
        w_real = rng.normal(size=n_inputs)
        x = rng.integers(0, 2, size=n_inputs)
        threshold = float(rng.normal())
        got = _binary(nb.call("mcp_neuron", x, w_real, threshold), "mcp_neuron")
        assert got == reference_mcp(x, w_real, threshold), (
            f"mcp_neuron is wrong for real weights {np.round(w_real, 3).tolist()} and threshold "
            f"{threshold:.3f} (arrays as inputs)"
        )


def _gate(nb, name: str) -> tuple[np.ndarray, float]:
    result = nb.call("logic_gate", name)
    assert isinstance(result, tuple | list) and len(result) == 2, (
        f"logic_gate({name!r}) must return a pair (weights, threshold)"
    )
    weights, threshold = result
    try:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        theta = float(threshold)
    except (TypeError, ValueError):
        raise AssertionError(f"logic_gate({name!r}) must give numbers") from None
    n_inputs = 1 if name == "NOT" else 2
    assert w.size == n_inputs, f"{name} has {n_inputs} input(s), but you gave {w.size} weights"
    return w, theta


def _check_gates(nb, names: tuple[str, ...]) -> None:
    for name in names:
        w, theta = _gate(nb, name)
        inputs = [list(bits) for bits in itertools.product((0, 1), repeat=w.size)]
        table = [reference_mcp(np.array(x), w, theta) for x in inputs]
        assert table == TABLES[name], (
            f"an MP neuron with weights {w.tolist()} and threshold {theta:g} computes {table}, "
            f"but {name} is {TABLES[name]}"
        )
        own = [_binary(nb.call("mcp_neuron", x, w.tolist(), theta), "mcp_neuron") for x in inputs]
        assert own == TABLES[name], (
            f"your mcp_neuron with your {name} weights gives {own}, expected {TABLES[name]}"
        )


def test_and_or_gates(nb):
    _check_gates(nb, ("AND", "OR"))


def test_not_nand_nor_gates(nb):
    _check_gates(nb, ("NOT", "NAND", "NOR"))
