"""What a network outputs: logits or probabilities, and the range its values lie in.

``nn.CrossEntropyLoss`` and Keras's ``from_logits=True`` losses apply the softmax
themselves; a network that ends in a softmax as well still trains, slowly, and a loop
test handed it would blame the loop ("the weights did not change"). These checks name
the network's mistake where it is, and give loop tests a network that cannot carry it.
"""

from __future__ import annotations

import numpy as np

from grader.checks._common import KernelObject, as_ref
from grader.probes.wire import Ref
from grader.testing.fixture import Notebook

#: How close to 1 every row's sum must be for the outputs to count as probabilities.
SUM_TOLERANCE = 1e-4
#: How far past a range's end a value may lie (float32 rounding of a bounded activation).
RANGE_SLACK = 1e-6


def model_outputs(nb: Notebook, model: KernelObject, x: np.ndarray) -> np.ndarray:
    """A PyTorch model's raw outputs for ``x`` (eval mode, no gradients), as float32."""
    raw = nb.probe("torch.outputs", model=as_ref(nb, model), x=np.asarray(x, dtype=np.float32))
    if type(raw) is not np.ndarray or raw.dtype.kind != "f":
        raise AssertionError("the model's outputs could not be read as numbers")
    return raw


def are_probabilities(outputs: np.ndarray) -> bool:
    """Whether every row is non-negative and sums to 1: a softmax's output, not logits."""
    rows = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    if rows.shape[1] < 2 or not np.all(np.isfinite(rows)):
        return False
    return bool(np.all(rows >= 0) and np.allclose(rows.sum(axis=1), 1.0, atol=SUM_TOLERANCE))


def expect_logits(outputs: np.ndarray, *, model: str = "the model", loss: str = "") -> None:
    """The outputs are raw scores, not probabilities (rows of a softmax)."""
    if are_probabilities(outputs):
        applies = f" ({loss} applies the softmax itself)" if loss else ""
        raise AssertionError(
            f"{model} returns probabilities (every row sums to 1): end with the last linear "
            f"layer and return raw scores (logits){applies}"
        )


def loop_model(
    nb: Notebook, model: Ref, probe_input: np.ndarray, *, name: str, reference: str
) -> Ref:
    """``model``, or the grader's reference network when ``model`` returns probabilities.

    A loop test (zero_grad, loss going down) judges the student's loop; handed a network
    that ends in a softmax it would see tiny gradients and blame the loop. Then the loop
    runs on ``reference`` (a probe that builds the grader's own network) and the detail
    says so; the network's own criterion fails on its own.
    """
    if not are_probabilities(model_outputs(nb, model, probe_input)):
        return model
    nb.note(
        f"your {name} returns probabilities (graded by the output criterion), so this loop "
        "was tested on the grader's own network, which returns logits"
    )
    return nb.probe(reference)


def expect_within_range(
    outputs: np.ndarray,
    low: float,
    high: float,
    *,
    what: str = "the outputs",
    reach: float | None = None,
    hint: str = "",
) -> None:
    """Every value lies in [low, high]; with ``reach``, they come within it of both ends.

    ``reach`` tells a Tanh (-1 to 1) from a Sigmoid (0 to 1) or a missing activation:
    feed inputs that saturate the last layer (scaled-up noise) and ask for values within
    ``reach`` of each end. A float32 Tanh never leaves [-1, 1], so the bound is exact
    up to ``RANGE_SLACK``; ``hint`` says what to change when a check fails.
    """
    values = np.asarray(outputs, dtype=np.float64).reshape(-1)
    suffix = f": {hint}" if hint else ""
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise AssertionError(f"{what} are empty or not finite{suffix}")
    smallest, largest = float(values.min()), float(values.max())
    span = f"from {smallest:.4g} to {largest:.4g}"
    if smallest < low - RANGE_SLACK or largest > high + RANGE_SLACK:
        raise AssertionError(f"{what} run {span}, outside [{low:g}, {high:g}]{suffix}")
    if reach is not None and (smallest > low + reach or largest < high - reach):
        raise AssertionError(
            f"{what} only run {span}, never near both ends of [{low:g}, {high:g}]{suffix}"
        )
