"""Hidden tests for the autoencoder lab: the layers one by one, and the output's range.

The shapes checked are those of the Linear layers (activations may be modules or
functions); with the per-layer parameter counts they fix the whole 784-128-64-32-64-128-784
network. The output range is measured on inputs a reconstruction never sees (all zeros,
all ones, noise, values far above 1), where only a final sigmoid keeps every pixel in
[0, 1].
"""

from __future__ import annotations

import numpy as np

from grader import checks

#: Per-example outputs of the six Linear layers, in forward order.
LAYER_OUTPUTS = [(128,), (64,), (32,), (64,), (128,), (784,)]
#: Their parameters: 784*128+128, 128*64+64, 64*32+32, 32*64+64, 64*128+128, 128*784+784.
LAYER_PARAMS = [100_480, 8_256, 2_080, 2_112, 8_320, 101_136]


def test_layer_shapes(nb):
    model = nb.new("Autoencoder")
    layers = checks.layer_shapes(nb, model, (2, 784))
    checks.expect_layer_shapes(layers, LAYER_OUTPUTS)
    checks.expect_layer_param_counts(checks.layer_param_counts(nb, model), LAYER_PARAMS)


def test_outputs_are_pixels(nb):
    rng = np.random.default_rng(505)
    inputs = np.concatenate(
        [
            np.zeros((1, 784)),
            np.ones((1, 784)),
            rng.uniform(0, 1, (6, 784)),
            rng.uniform(0, 20, (4, 784)),
            rng.normal(0, 5, (4, 784)),
        ]
    ).astype(np.float32)
    low, high = np.inf, -np.inf
    for seed in (1, 2, 3):
        checks.seed_everything(nb, seed)
        out = nb.probe("torch.outputs", model=nb.new("Autoencoder"), x=inputs)
        assert isinstance(out, np.ndarray) and out.dtype.kind == "f", (
            "could not read the autoencoder's output as an array of numbers"
        )
        low, high = min(low, float(np.min(out))), max(high, float(np.max(out)))
    nb.record("output_min", low)
    nb.record("output_max", high)
    assert 0.0 <= low and high <= 1.0, (
        f"the autoencoder's outputs range from {low:.3g} to {high:.3g}: end the decoder with "
        "nn.Sigmoid() so every reconstructed pixel lies in [0, 1], like the input"
    )
