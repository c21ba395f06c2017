"""Hidden test for the image-classification lab: the network layer by layer.

The curriculum's shapes and counts, asserted: 32 -> 30 -> 15 -> 13 -> 6 -> 4, flatten
2,048; parameters 896 / 18,496 / 73,856 / 262,272 / 1,290 (356,810 in all).
"""

from __future__ import annotations

from grader import checks

INPUT_SHAPE = (2, 32, 32, 3)
#: Per-example output shapes, in call order: conv, pool, conv, pool, conv, flatten, dense x2.
LAYER_OUTPUTS = [
    (30, 30, 32),
    (15, 15, 32),
    (13, 13, 64),
    (6, 6, 64),
    (4, 4, 128),
    (2_048,),
    (128,),
    (10,),
]
#: Parameters of the layers that have any: 3*3*3*32+32, 3*3*32*64+64, 3*3*64*128+128,
#: 2048*128+128, 128*10+10.
LAYER_PARAMS = [896, 18_496, 73_856, 262_272, 1_290]


def test_layer_shapes(nb):
    model = nb.call("build_cnn")
    checks.expect_layer_shapes(checks.layer_shapes(nb, model, INPUT_SHAPE), LAYER_OUTPUTS)
    checks.expect_layer_param_counts(checks.layer_param_counts(nb, model), LAYER_PARAMS)
