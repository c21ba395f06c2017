"""Hidden tests for the LeNet-5 lab: the network layer by layer.

Only modules appear in a forward hook, so the shapes checked are those of the layers
with parameters (a pooling or activation may be a function call); the per-layer
parameter counts then pin down what each of them is connected to: 48,120 parameters in
the first fully connected layer means 400 inputs, i.e. 16 x 5 x 5 after two pools.
"""

from __future__ import annotations

from grader import checks

INPUT_SHAPE = (2, 3, 32, 32)
#: Per-example output shapes, in forward order, of conv1, conv2, fc1, fc2, fc3.
LAYER_OUTPUTS = [(6, 28, 28), (16, 10, 10), (120,), (84,), (10,)]
#: Parameters of the same layers: 3*25*6+6, 6*25*16+16, 400*120+120, 120*84+84, 84*10+10.
LAYER_PARAMS = [456, 2_416, 48_120, 10_164, 850]


def test_layer_shapes(nb):
    model = nb.new("LeNet5")
    layers = checks.layer_shapes(nb, model, INPUT_SHAPE)
    checks.expect_layer_shapes(layers, LAYER_OUTPUTS)
    checks.expect_layer_param_counts(checks.layer_param_counts(nb, model), LAYER_PARAMS)
