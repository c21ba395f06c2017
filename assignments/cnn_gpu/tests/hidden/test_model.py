"""Hidden test for the GPU CNN lab: the network layer by layer.

Only modules appear in a forward hook, so the shapes checked are those of the layers
with parameters (a ReLU may be a function call; a pool reused three times appears three
times and is skipped over). The per-layer parameter counts then pin down what each
layer is connected to: 524,544 parameters in fc1 means 2,048 inputs, 128 x 4 x 4.
"""

from __future__ import annotations

from grader import checks

INPUT_SHAPE = (2, 3, 32, 32)
#: Per-example outputs, in forward order, of conv1, conv2, conv3, fc1 and fc2 (2 classes).
LAYER_OUTPUTS = [(32, 32, 32), (64, 16, 16), (128, 8, 8), (256,), (2,)]
#: Parameters of the same layers: 3*9*32+32, 32*9*64+64, 64*9*128+128, 2048*256+256, 256*2+2.
LAYER_PARAMS = [896, 18_496, 73_856, 524_544, 514]


def test_layer_shapes(nb):
    model = nb.new("CNNClassifier", 2)
    layers = checks.layer_shapes(nb, model, INPUT_SHAPE)
    checks.expect_layer_shapes(layers, LAYER_OUTPUTS)
    checks.expect_layer_param_counts(checks.layer_param_counts(nb, model), LAYER_PARAMS)
