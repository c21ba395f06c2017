"""Public checks for the autoencoder lab: the network's size, part by part, and its shapes.

Run them yourself with ``grader check your_notebook.ipynb``. The hidden tests go further:
the layers one by one, your normal-only split and training loop on the grader's data,
your error function and threshold rule, and how well your trained model tells the
grader's own 7s from its normal digits.
"""

from __future__ import annotations

from grader import checks

#: Seed 001 E12: encoder 100,480 + 8,256 + 2,080; decoder 2,112 + 8,320 + 101,136.
ENCODER_PARAMS, DECODER_PARAMS = 110_816, 111_568
TOTAL_PARAMS = ENCODER_PARAMS + DECODER_PARAMS  # 222,384
#: Wrong totals whose cause we know, phrased to follow "is what you get with".
NEAR_MISSES = {
    226_512: "the other manual's Keras network (784-128-64-64, a 64-number code)",
    103_328: "the other manual's snippet (784-64-16-64-784)",
    221_184: "layers without biases",
    220_320: "a 16-number code instead of 32",
}


def part_params(nb, model, part: str) -> int:
    """Parameters of the modules under the ``encoder`` or ``decoder`` attribute."""
    layers = checks.layer_param_counts(nb, model)
    return sum(layer.params for layer in layers if layer.name.split(".")[0] == part)


def test_parameter_counts(nb):
    model = nb.new("Autoencoder")
    counts = checks.param_counts(nb, model)
    checks.expect_param_count(counts, TOTAL_PARAMS, NEAR_MISSES)
    for part, expected in (("encoder", ENCODER_PARAMS), ("decoder", DECODER_PARAMS)):
        got = nb.record(f"{part}_params", part_params(nb, model, part))
        assert got == expected, (
            f"the {part} has {got:,} parameters, expected {expected:,}: keep the layers in "
            f"two attributes, self.encoder (784-128-64-32) and self.decoder (32-64-128-784)"
        )


def test_shapes(nb):
    model = nb.new("Autoencoder")
    shapes = checks.output_shapes(nb, model, [(1, 784), (7, 784), (64, 784)])
    checks.expect_output_shapes(shapes, lambda shape: (shape[0], 784))
    encoder = nb.method(model, "get_submodule", "encoder")
    codes = checks.output_shapes(nb, encoder, [(1, 784), (7, 784)])
    checks.expect_output_shapes(codes, lambda shape: (shape[0], 32))
