"""Hidden tests for the RNN/LSTM lab: the trained networks on a series they never saw.

The grader draws its own noisy sine wave (another phase, other noise), cuts it into
windows of 20 itself and sends only the windows to the student's ``predict``; the next
values stay here. Each network's test MSE is divided by that of the naive forecast "the
next value equals the last value of the window", computed here from the same windows.
Ratios are scored in bands (rubrics/rnn_lstm.yaml) calibrated from the reference solution
over several seeds (docs/calibration.md). The noise (0.1) alone puts a floor of about 0.5
under the ratio: the naive forecast carries the noise of two values, a good model one.
"""

from __future__ import annotations

import math

import numpy as np

from grader import checks

WINDOW, NOISE, SERIES_SEED, PHASE = 20, 0.1, 8_080, 1.3
#: Full-credit ratio of test MSE to the last-value forecast's, per network.
PASS_RATIO = {"lstm_model": 0.85, "rnn_model": 0.92}


def held_out_windows() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SERIES_SEED)
    series = np.sin(np.linspace(0.0, 40.0, 1_000) + PHASE) + NOISE * rng.normal(size=1_000)
    x = np.stack([series[i : i + WINDOW] for i in range(len(series) - WINDOW)])[:, :, None]
    return x.astype(np.float32), series[WINDOW:]


def forecast_ratio(nb, name: str) -> float:
    assert nb.exists(name), f"the notebook has no trained `{name}`: run the training cell"
    x, y = held_out_windows()
    raw = nb.call("predict", nb.ref(name), x)
    assert isinstance(raw, np.ndarray) and raw.dtype.kind in "iuf", (
        f"predict must return a NumPy array of numbers, not {type(raw).__name__}"
    )
    assert raw.size == len(x), f"predict returned {raw.size} values for {len(x)} windows"
    mse = float(np.mean((raw.reshape(-1).astype(np.float64) - y) ** 2))
    naive = float(np.mean((x[:, -1, 0].astype(np.float64) - y) ** 2))
    nb.record("test_mse", mse)
    nb.record("last_value_mse", naive)
    return nb.record("mse_ratio", mse / naive if math.isfinite(mse) else math.inf)


def expect_beats_last_value(ratio: float, name: str) -> None:
    assert ratio <= PASS_RATIO[name], (
        f"`{name}`'s forecasts have {ratio:.3f} times the MSE of repeating the last value; "
        f"a trained network reaches {PASS_RATIO[name]} or less"
    )


def test_lstm_beats_last_value(nb):
    expect_beats_last_value(forecast_ratio(nb, "lstm_model"), "lstm_model")


def test_rnn_beats_last_value(nb):
    expect_beats_last_value(forecast_ratio(nb, "rnn_model"), "rnn_model")


def test_loss_histories(nb):
    for name in ("rnn_history", "lstm_history"):
        history = checks.epoch_history(nb, name)
        checks.expect_loss_decrease(history, k=3, what=f"loss in `{name}`")
    for name in ("rnn_test_mse", "lstm_test_mse", "naive_mse"):
        value = nb.get(name) if nb.exists(name) else None
        assert type(value) in (int, float) and math.isfinite(value) and value >= 0, (
            f"`{name}` must be a non-negative number, not {value!r:.40}"
        )
