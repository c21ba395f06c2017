"""Hidden tests for the autoencoder lab: errors, the threshold, and detection quality.

The grader draws its own held-out digits (``load_mnist`` test pool, a seed the notebook
never uses) and keeps their labels: only the images enter the kernel, the trained model
reconstructs them, and the errors, the mean-image baseline and the ROC-AUC (7s against
normal digits) are computed here (``grader.checks.anomaly``). The student's
``reconstruction_errors`` and ``anomaly_threshold`` are compared with the grader's own on
data it chooses; the notebook's ``threshold`` and reported rates are recomputed from the
validation and test images the grader regenerates (``load_mnist`` is a pure function of
the notebook's ``N_TRAIN``, ``N_TEST``, ``SEED`` and the data tier). Pass marks are the
full-credit bands of rubrics/autoencoder.yaml, calibrated from the reference solution
(docs/calibration.md); the full tier's are provisional.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from grader import checks
from grader.checks import anomaly
from grader.datasets import ImageSplit, load_mnist

ANOMALY_DIGIT = 7
#: What load_mnist is called with: the notebook's values, or the lab's defaults (load_mnist's
#: own: every image, seed 0) when its cells do not use these names (assignment.yaml).
DATA_SETTINGS = ("N_TRAIN", "N_TEST", "SEED")
HELD_OUT_IMAGES, HELD_OUT_SEED = 1_000, 4_343
#: Full-credit ROC-AUC of the reconstruction error, 7s against normal digits, per tier.
PASS_AUC = {"offline": 0.75, "full": 0.65}
#: Full-credit ratio of the model's MSE on normal digits to the mean image's, per tier.
PASS_RATIO = {"offline": 0.40, "full": 0.55}
#: Agreement of a reported threshold or ROC-AUC with the grader's recomputation.
RTOL, AUC_TOLERANCE = 1e-4, 1e-3


@functools.lru_cache(maxsize=2)
def held_out(tier: str) -> tuple[np.ndarray, np.ndarray]:
    split = load_mnist(n_train=0, n_test=HELD_OUT_IMAGES, seed=HELD_OUT_SEED, tier=tier)
    return split.x_test.reshape(HELD_OUT_IMAGES, -1), split.y_test


@functools.lru_cache(maxsize=2)
def notebook_data(n_train, n_test, seed, tier: str) -> ImageSplit:
    """The notebook's own images, flattened as its data cell does."""
    data = load_mnist(n_train=n_train, n_test=n_test, seed=seed, tier=tier)
    flat = [a.reshape(len(a), -1) for a in (data.x_train, data.x_test)]
    return ImageSplit(flat[0], data.y_train, flat[1], data.y_test)


def data_of(nb) -> ImageSplit:
    """The notebook's images: from its N_TRAIN, N_TEST and SEED, or the lab's defaults."""
    return notebook_data(*(nb.setting(name) for name in DATA_SETTINGS), nb.tier)


def student_errors(nb, model, x: np.ndarray) -> np.ndarray:
    raw = nb.call("reconstruction_errors", model, x)
    assert isinstance(raw, np.ndarray) and raw.dtype.kind in "iuf", (
        f"reconstruction_errors must return a NumPy array of numbers, not {type(raw).__name__}"
    )
    if raw.size == x.shape[1] and raw.size != len(x):
        raise AssertionError(
            f"reconstruction_errors returned {raw.size} values for {len(x)} images, one per "
            "pixel: average each image's squared errors over its pixels (axis=1), not over images"
        )
    assert raw.shape == (len(x),), (
        f"reconstruction_errors returned shape {raw.shape} for {len(x)} images, expected "
        f"({len(x)},): one error per image"
    )
    return raw.astype(np.float64)


def trained_model(nb):
    assert nb.exists("model"), "the notebook has no trained `model`: run the training cell"
    return nb.ref("model")


def test_reconstruction_errors_function(nb):
    x = held_out(nb.tier)[0][:50]
    checks.seed_everything(nb, 21)
    model = nb.new("Autoencoder")
    expected = anomaly.reconstruction_errors(nb, model, x)
    got = student_errors(nb, model, x)
    if np.allclose(got, expected, rtol=RTOL, atol=1e-8):
        return
    hints = {
        "the sum over the pixels instead of the mean": expected * x.shape[1],
        "the root of the mean squared error": np.sqrt(expected),
    }
    for described, values in hints.items():
        if np.allclose(got, values, rtol=RTOL):
            raise AssertionError(f"reconstruction_errors returned {described}")
    worst = int(np.argmax(np.abs(got - expected)))
    raise AssertionError(
        f"reconstruction_errors gives {got[worst]:.5g} for image {worst}, but its mean squared "
        f"error is {expected[worst]:.5g}: the mean over the 784 pixels of (output - input)**2"
    )


def test_threshold_rule(nb):
    rng = np.random.default_rng(909)
    samples = [rng.gamma(2.0, 0.01, size=n) for n in (57, 200, 1_001)]
    anomaly.expect_threshold_rule(nb, "anomaly_threshold", samples, anomaly.percentile_rule(95))
    anomaly.expect_threshold_rule(
        nb,
        "anomaly_threshold",
        samples[:2],
        anomaly.percentile_rule(99),
        describe="the 99th percentile (percentile=99)",
        percentile=99.0,
    )


def test_threshold_from_validation_errors(nb):
    for name in ("threshold", "val_index"):
        assert nb.exists(name), f"the notebook has no `{name}`: run the detection cell"
    data = data_of(nb)
    val_index = nb.get("val_index")
    assert isinstance(val_index, np.ndarray) and val_index.dtype.kind in "iu", (
        "`val_index` must be an array of integer indices"
    )
    errors = student_errors(nb, trained_model(nb), data.x_train[val_index])
    expected = anomaly.as_threshold(nb.call("anomaly_threshold", errors), "anomaly_threshold")
    got = anomaly.as_threshold(nb.get("threshold"), "`threshold`")
    nb.record("threshold", got)
    nb.record("threshold_from_validation", expected)
    assert anomaly.same_threshold(got, expected, rtol=RTOL), (
        f"`threshold` is {got:.5g}, but anomaly_threshold of your model's errors on the "
        f"validation images is {expected:.5g}: take the threshold from the normal validation "
        "errors, never from the test set (whose anomalies the detector must not see)"
    )


def test_reconstruction_quality(nb):
    x, y = held_out(nb.tier)
    normal = x[y != ANOMALY_DIGIT]
    errors = anomaly.reconstruction_errors(nb, trained_model(nb), normal)
    baseline = float(np.mean((normal - normal.mean(axis=0)) ** 2))
    mse = float(np.mean(errors))
    ratio = nb.record("mse_ratio", mse / baseline if math.isfinite(mse) else math.inf)
    nb.record("mse", mse)
    nb.record("mean_image_mse", baseline)
    assert ratio <= PASS_RATIO[nb.tier], (
        f"your model's reconstruction error on normal digits is {ratio:.3f} times that of "
        f"always answering the average digit; a trained autoencoder reaches "
        f"{PASS_RATIO[nb.tier]} or less"
    )


def test_anomaly_auc(nb):
    x, y = held_out(nb.tier)
    is_anomaly = y == ANOMALY_DIGIT
    detection = anomaly.anomaly_detection(nb, trained_model(nb), x, is_anomaly)
    if nb.exists("threshold"):
        try:
            threshold = anomaly.as_threshold(nb.get("threshold"))
        except AssertionError:
            threshold = None
        if threshold is not None:  # shown in the report; graded elsewhere
            nb.record(
                "false_alarm_rate", anomaly.flagged_fraction(detection.normal_errors, threshold)
            )
            nb.record(
                "detection_rate", anomaly.flagged_fraction(detection.anomaly_errors, threshold)
            )
    anomaly.expect_auc_at_least(
        detection.auc,
        PASS_AUC[nb.tier],
        what=f"ROC-AUC of your model's reconstruction error, {is_anomaly.sum()} 7s against "
        f"{(~is_anomaly).sum()} normal digits the grader drew,",
    )


def _reported(nb, name: str) -> float:
    value = nb.get(name) if nb.exists(name) else None
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        value = float(value.reshape(()))
    assert type(value) in (int, float) and math.isfinite(value), (
        f"`{name}` must be a number, not {value!r:.40}"
    )
    return float(value)


def test_reported_results(nb):
    history = checks.epoch_history(nb, missing_hint="keep train_autoencoder's losses")
    checks.expect_loss_decrease(history, k=1, what="loss in `history`")
    data = data_of(nb)
    is_anomaly = data.y_test == ANOMALY_DIGIT
    errors = student_errors(nb, trained_model(nb), data.x_test)
    expected_auc = anomaly.roc_auc(errors, is_anomaly)
    reported_auc = _reported(nb, "test_auc")
    assert abs(reported_auc - expected_auc) <= AUC_TOLERANCE, (
        f"`test_auc` is {reported_auc:.4f}, but the ROC-AUC of your test errors against "
        f"is_anomaly is {expected_auc:.4f}: pass the errors themselves (not the flags) and "
        "the true labels, roc_auc_score(is_anomaly, test_errors)"
    )
    threshold = anomaly.as_threshold(nb.get("threshold"), "`threshold`")
    one_image = {
        "detection_rate": (errors[is_anomaly], 1 / max(1, is_anomaly.sum())),
        "false_alarm_rate": (errors[~is_anomaly], 1 / max(1, (~is_anomaly).sum())),
    }
    for name, (group, step) in one_image.items():
        expected = anomaly.flagged_fraction(group, threshold)
        reported = _reported(nb, name)
        assert abs(reported - expected) <= step + 1e-9, (
            f"`{name}` is {reported:.4f}, but your threshold flags {expected:.4f} of those "
            "test images: flag an image when its error is above the threshold"
        )
