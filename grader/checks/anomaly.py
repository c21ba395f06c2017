"""Anomaly-detection checks: reconstruction errors, ROC-AUC and threshold rules.

The kernel only reconstructs: :func:`reconstruction_errors` asks it for the model's raw
outputs on images the grader chose, and computes each image's squared error here. Which
images are anomalies is known only to the grader, so the ROC-AUC (:func:`roc_auc`) and
the false-alarm and detection rates at a threshold are computed here too; a notebook
cannot see the labels, let alone fake the score.

A threshold *rule* (the 95th percentile of normal validation errors, say) is judged by
calling the student's function on error vectors the grader draws and comparing with the
grader's own rule (:func:`expect_threshold_rule`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from grader.checks._common import KernelObject, as_ref, float_array, fmt_number
from grader.checks.predictions import MAX_REQUEST_BYTES
from grader.probes.wire import Ref
from grader.testing.fixture import Notebook


def reconstruction_errors(
    nb: Notebook,
    model: KernelObject,
    x: np.ndarray,
    *,
    batch_size: int = 256,
    timeout: float | None = None,
) -> np.ndarray:
    """Mean squared error per example between ``x`` and the model's output for it.

    The output of each example must have as many values as its input (an autoencoder's
    reconstruction, any layout): ``(N, 784)`` for ``(N, 28, 28)`` input is fine.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError("x must be a non-empty batch of examples")
    ref = as_ref(nb, model)
    rows = max(1, MAX_REQUEST_BYTES // max(1, x[:1].nbytes))
    errors = []
    for start in range(0, len(x), rows):
        chunk = x[start : start + rows]
        raw = nb.probe(
            "torch.outputs", timeout=timeout, model=ref, x=chunk, batch_size=int(batch_size)
        )
        out = float_array(raw, "the model's output")
        if out.ndim == 0 or len(out) != len(chunk) or out[0].size != chunk[0].size:
            raise AssertionError(
                f"the model turned {len(chunk)} inputs of shape {chunk.shape[1:]} into an "
                f"output of shape {out.shape}: a reconstruction has one value per input value"
            )
        diff = out.reshape(len(chunk), -1) - chunk.reshape(len(chunk), -1).astype(np.float64)
        errors.append(np.mean(diff**2, axis=1))
    return np.concatenate(errors)


def roc_auc(scores: Sequence[float] | np.ndarray, is_anomaly: Sequence[bool] | np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` (higher = more anomalous), ties counted half.

    It is the probability that a random anomaly scores above a random normal example
    (the Mann-Whitney U statistic over the product of the class sizes). NaN scores fail
    as the worst possible ranking: they count below every finite score.
    """
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels = np.asarray(is_anomaly, dtype=bool).reshape(-1)
    if values.shape != labels.shape:
        raise ValueError(f"{values.size} scores for {labels.size} labels")
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        raise ValueError("the ROC-AUC needs both normal examples and anomalies")
    values = np.where(np.isnan(values), -np.inf, values)
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    # Average ranks over runs of tied scores (1-based).
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    u = ranks[labels].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


@dataclass(frozen=True)
class Detection:
    """How a model's reconstruction errors separate the grader's normal images and anomalies."""

    auc: float
    normal_errors: np.ndarray
    anomaly_errors: np.ndarray


def anomaly_detection(
    nb: Notebook,
    model: KernelObject,
    x: np.ndarray,
    is_anomaly: np.ndarray,
    *,
    batch_size: int = 256,
    timeout: float | None = None,
) -> Detection:
    """Reconstruction errors of ``x`` (measured in the kernel) and their ROC-AUC (computed here).

    Only ``x`` enters the kernel; ``is_anomaly`` stays in the grader. Records ``auc`` and
    the mean error of each group.
    """
    labels = np.asarray(is_anomaly, dtype=bool).reshape(-1)
    if len(labels) != len(x):
        raise ValueError(f"{len(labels)} labels for {len(x)} images")
    errors = reconstruction_errors(nb, model, x, batch_size=batch_size, timeout=timeout)
    auc = roc_auc(errors, labels)
    nb.record("auc", auc)
    nb.record("mean_error_normal", float(np.mean(errors[~labels])))
    nb.record("mean_error_anomaly", float(np.mean(errors[labels])))
    return Detection(auc=auc, normal_errors=errors[~labels], anomaly_errors=errors[labels])


def expect_auc_at_least(auc: float, threshold: float, *, what: str = "ROC-AUC") -> None:
    """``auc >= threshold`` (NaN fails); the message says what 0.5 means."""
    if auc >= threshold:
        return
    raise AssertionError(
        f"{what} {fmt_number(auc)}, expected at least {fmt_number(threshold)} "
        "(0.5 is no better than chance)"
    )


def flagged_fraction(errors: np.ndarray, threshold: float) -> float:
    """Fraction of ``errors`` strictly above ``threshold``: the rule ``error > threshold``.

    On normal images it is the false-alarm rate; on anomalies, the detection rate.
    """
    values = np.asarray(errors, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError("no errors to flag")
    return float(np.count_nonzero(values > threshold)) / values.size


def percentile_rule(percentile: float = 95.0) -> Callable[[np.ndarray], float]:
    """The grader's reference rule: NumPy's (linear) percentile of the normal errors."""

    def rule(errors: np.ndarray) -> float:
        return float(np.percentile(np.asarray(errors, dtype=np.float64), percentile))

    return rule


def as_threshold(value: object, what: str = "the threshold") -> float:
    """A float from a returned Python number or 0-d/one-element array; a message otherwise."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        return float(value.reshape(()))
    if type(value) in (int, float):
        return float(value)
    raise AssertionError(f"{what} must be a number, not a {type(value).__name__}")


def same_threshold(got: float, expected: float, *, rtol: float = 1e-5) -> bool:
    """Equal up to float32 rounding (a float32 percentile passes, another rule does not)."""
    return abs(got - expected) <= rtol * max(abs(expected), 1e-12)


def expect_threshold_rule(
    nb: Notebook,
    function: str | Ref,
    samples: Sequence[np.ndarray],
    rule: Callable[[np.ndarray], float],
    *,
    rtol: float = 1e-5,
    describe: str = "the 95th percentile",
    **kwargs: object,
) -> list[float]:
    """Call the student's ``function(errors, **kwargs)`` on each sample; compare with ``rule``.

    Returns the student's thresholds. The message names the first sample that differs
    and, when the answer matches a rule students often use instead (mean + 3 sd, a
    percentile of the wrong end, the maximum), says which.
    """
    got_all = []
    for index, sample in enumerate(samples):
        errors = np.asarray(sample, dtype=np.float64)
        got = as_threshold(nb.call(function, errors, **kwargs), f"{function}'s result")
        expected = rule(errors)
        got_all.append(got)
        if same_threshold(got, expected, rtol=rtol):
            continue
        hint = _known_rule(got, errors, rtol)
        raise AssertionError(
            f"on the grader's error sample {index + 1} ({errors.size} values) your threshold is "
            f"{fmt_number(got)}, but {describe} is {fmt_number(expected)}"
            + (f": yours is {hint}" if hint else "")
        )
    nb.record("thresholds", got_all)
    return got_all


def _known_rule(got: float, errors: np.ndarray, rtol: float) -> str | None:
    """Name a common alternative rule that gives ``got`` on ``errors``, if one does."""
    candidates = {
        "the mean + 3 standard deviations": errors.mean() + 3 * errors.std(),
        "the mean + 3 sample standard deviations": errors.mean() + 3 * errors.std(ddof=1),
        "the 5th percentile (the wrong end)": np.percentile(errors, 5),
        "the 99th percentile": np.percentile(errors, 99),
        "the largest error": errors.max(),
        "the mean": errors.mean(),
        "the median": np.median(errors),
    }
    for described, value in candidates.items():
        if same_threshold(got, float(value), rtol=rtol):
            return described
    return None
