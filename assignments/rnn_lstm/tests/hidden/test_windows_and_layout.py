"""Hidden tests for the RNN/LSTM lab: exact windows, parameter counts and tensor layout.

Windows are checked value by value on series the grader makes (a ramp whose values give
away their positions, and random values), so an off-by-one start or target shows. The
layout test feeds batches whose size differs from the window length: a recurrent layer
built without ``batch_first=True`` reads (batch, sequence, 1) as (sequence, batch, 1)
and returns one forecast per time step instead of one per window.
"""

from __future__ import annotations

import numpy as np

from grader import checks

#: (constructor args) -> parameters. 2-layer LSTM(1, 50): 10,400 + 20,400, fc 51;
#: RNN(1, 8): 8 + 64 + 8 + 8, fc 9.
EXPECTED_COUNTS = [
    (("rnn",), 321),
    (("lstm",), 1_233),
    (("lstm", 50, 2), 31_051),
    (("rnn", 8), 97),
]
#: (batch, sequence, feature) inputs of the layout test: batch never equals sequence.
LAYOUT_INPUTS = [(1, 20, 1), (3, 20, 1), (17, 20, 1), (5, 7, 1), (2, 45, 1)]


def windows(nb, series: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    result = nb.call("make_windows", series, window)
    assert isinstance(result, tuple | list) and len(result) == 2, (
        "make_windows must return a pair (X, y)"
    )
    x, y = result
    for what, value in (("X", x), ("y", y)):
        assert isinstance(value, np.ndarray) and value.dtype.kind == "f", (
            f"make_windows must return {what} as a float NumPy array, not {type(value).__name__}"
        )
    count = len(series) - window
    assert x.shape == (count, window, 1), (
        f"make_windows({len(series)} values, {window}) gave X of shape {x.shape}, expected "
        f"{(count, window, 1)}: one window per value that has {window} values before it"
    )
    assert y.shape == (count, 1), (
        f"make_windows({len(series)} values, {window}) gave y of shape {y.shape}, "
        f"expected {(count, 1)}"
    )
    return x.astype(np.float64), y.astype(np.float64)


def test_make_windows_exact(nb):
    ramp = np.arange(30, dtype=np.float32)
    x, y = windows(nb, ramp, 20)
    assert np.array_equal(x[0, :, 0], np.arange(20)) and np.array_equal(x[-1, :, 0], ramp[9:29]), (
        f"for np.arange(30) the first window must be 0..19 and the last 9..28, not "
        f"{x[0, 0, 0]:g}..{x[0, -1, 0]:g} and {x[-1, 0, 0]:g}..{x[-1, -1, 0]:g}"
    )
    if np.array_equal(y[:, 0], x[:, -1, 0]):
        raise AssertionError(
            "make_windows' target is the last value of each window: it must be the value "
            "right after the window, series[i + window]"
        )
    assert np.array_equal(y[:, 0], ramp[20:]), (
        f"for np.arange(30) and window 20 the targets must be 20..29, not {y[0, 0]:g}..{y[-1, 0]:g}"
    )
    rng = np.random.default_rng(7_007)
    series = rng.normal(size=53).astype(np.float32)
    x, y = windows(nb, series, 7)
    expected = np.stack([series[i : i + 7] for i in range(46)])
    assert np.allclose(x[:, :, 0], expected, rtol=0, atol=1e-6), (
        "make_windows' windows are wrong on a random series of 53 values with window 7: "
        "X[i] must hold series[i : i + window]"
    )
    assert np.allclose(y[:, 0], series[7:], rtol=0, atol=1e-6), (
        "make_windows' targets are wrong on a random series: y[i] must be series[i + window]"
    )


def test_parameter_counts(nb):
    for args, expected in EXPECTED_COUNTS:
        counts = checks.param_counts(nb, nb.new("Forecaster", *args))
        shown = ", ".join(repr(a) for a in args)
        checks.expect_param_count(counts, expected, what=f"parameters in Forecaster({shown})")


def model_outputs(nb, model, x: np.ndarray) -> np.ndarray:
    """The model's raw outputs for ``x`` (sent as a float32 tensor), as an array."""
    out = nb.call(model, nb.new("torch.from_numpy", np.ascontiguousarray(x, dtype=np.float32)))
    assert isinstance(out, np.ndarray) and out.dtype.kind == "f", (
        f"Forecaster's forward must return a tensor, not {type(out).__name__}"
    )
    return out.astype(np.float64)


def test_batch_first_layout(nb):
    # Windows cut from a sine wave, so every window differs from the others.
    t = np.linspace(0.0, 40.0, 1_000)
    starts = [0, 130, 377, 512, 871]
    batch = np.stack([np.sin(t[s : s + 20]) for s in starts])[:, :, None]
    for args in (("rnn",), ("lstm",), ("lstm", 12, 2)):
        checks.seed_everything(nb, 21)
        model = nb.new("Forecaster", *args)
        shapes = checks.output_shapes(nb, model, LAYOUT_INPUTS)
        checks.expect_output_shapes(shapes, lambda shape: (shape[0], 1))
        together = model_outputs(nb, model, batch).reshape(-1)
        alone = np.array([model_outputs(nb, model, w[None]).reshape(-1)[0] for w in batch])
        shown = ", ".join(repr(a) for a in args)
        assert np.allclose(together, alone, rtol=1e-4, atol=1e-5), (
            f"Forecaster({shown}) forecasts a window differently when other windows share its "
            "batch: it reads (batch, sequence, 1) as (sequence, batch, 1). Create the "
            "recurrent layer with batch_first=True"
        )
