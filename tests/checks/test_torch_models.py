"""Structure checks on PyTorch models: parameter counts, output and per-layer shapes."""

from __future__ import annotations

import pytest

from grader.checks import (
    expect_layer_param_counts,
    expect_layer_shapes,
    expect_output_shapes,
    expect_param_count,
    expect_trainable_counts,
    layer_param_counts,
    layer_shapes,
    output_shapes,
    param_counts,
)

CELLS = [
    """
import torch
import torch.nn as nn
import torch.nn.functional as F

class LeNet5(nn.Module):
    def __init__(self, in_channels=3, conv1_padding=0, flat=400):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5, padding=conv1_padding)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(flat, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

def lenet_sequential():
    return nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 5),
    )

class ModeSpy(nn.Module):
    '''Remembers the mode and grad state it was called in.'''
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, torch.is_grad_enabled()))
        return self.fc(x)

spy = ModeSpy()
spy.train()

frozen = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))
for p in frozen[0].parameters():
    p.requires_grad_(False)

lstm = nn.LSTM(1, 16, batch_first=True)
"""
]

LENET_SHAPES = [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120,), (84,), (10,)]
NEAR_MISSES = {61_706: "one input channel instead of 3", 44_726: "a net sized for 28x28 input"}


def test_param_count_of_lenet_passes(nb):
    counts = param_counts(nb, nb.new("LeNet5"))
    assert (counts.total, counts.trainable, counts.non_trainable) == (62_006, 62_006, 0)
    expect_param_count(counts, 62_006, NEAR_MISSES)
    assert nb.measured["params_total"] == 62_006


def test_param_count_with_one_input_channel_fails_naming_both_numbers(nb):
    counts = param_counts(nb, nb.new("LeNet5", 1), framework="torch")
    assert counts.total == 61_706
    with pytest.raises(AssertionError) as failure:
        expect_param_count(counts, 62_006, NEAR_MISSES)
    assert str(failure.value) == (
        "61,706 parameters, expected 62,006 "
        "(61,706 is what you get with one input channel instead of 3)"
    )


def test_param_count_without_a_known_cause_names_both_numbers(nb):
    counts = param_counts(nb, nb.new("LeNet5", 3, 2, 576))
    with pytest.raises(AssertionError, match=r"^83,126 parameters, expected 62,006$"):
        expect_param_count(counts, 62_006, NEAR_MISSES)


def test_frozen_layers_and_buffers_are_counted_apart(nb):
    counts = param_counts(nb, "frozen")
    # BatchNorm's running statistics are buffers, not parameters.
    assert (counts.total, counts.trainable, counts.non_trainable) == (74, 34, 40)
    expect_trainable_counts(counts, trainable=34, non_trainable=40)
    with pytest.raises(AssertionError, match="34 trainable parameters, expected 74"):
        expect_trainable_counts(counts, trainable=74)
    with pytest.raises(AssertionError, match="40 non-trainable parameters, expected 0"):
        expect_trainable_counts(counts, non_trainable=0)


def test_per_layer_counts_catch_the_wrong_first_layer(nb):
    good = layer_param_counts(nb, nb.new("LeNet5"))
    assert [(layer.name, layer.params) for layer in good][:2] == [("conv1", 456), ("conv2", 2416)]
    expect_layer_param_counts(good, [456, 2_416, 48_120, 10_164, 850])
    bad = layer_param_counts(nb, nb.new("LeNet5", 1))
    with pytest.raises(AssertionError, match="layer 1 with parameters has 156, expected 456"):
        expect_layer_param_counts(bad, [456, 2_416, 48_120, 10_164, 850])
    with pytest.raises(AssertionError, match="5 layers have parameters, expected 6"):
        expect_layer_param_counts(good, [456, 2_416, 48_120, 10_164, 850, 1])


def test_output_shapes_for_several_batch_sizes(nb):
    inputs = [(1, 3, 32, 32), (4, 3, 32, 32), (7, 3, 32, 32)]
    shapes = output_shapes(nb, nb.new("LeNet5"), inputs)
    assert shapes == {s: (s[0], 10) for s in inputs}
    expect_output_shapes(shapes, lambda s: (s[0], 10))
    wrong = output_shapes(nb, nb.call("lenet_sequential"), inputs)
    with pytest.raises(AssertionError) as failure:
        expect_output_shapes(wrong, lambda s: (s[0], 10))
    assert str(failure.value) == (
        "for an input of shape (1, 3, 32, 32) the output has shape (1, 5), expected (1, 10)"
    )


def test_probes_run_in_eval_mode_without_grad_and_restore_train_mode(nb):
    output_shapes(nb, "spy", [(2, 4)])
    layer_shapes(nb, "spy", (2, 4))
    assert nb.get("spy.seen") == [(False, False), (False, False)]
    assert nb.get("spy.training") is True
    assert nb.get("spy.fc.training") is True


def test_layer_shapes_match_lenet_with_functional_or_module_relu(nb):
    layers = layer_shapes(nb, nb.new("LeNet5"), (2, 3, 32, 32))
    assert [layer.name for layer in layers] == [
        "conv1", "pool", "conv2", "pool", "fc1", "fc2", "fc3"
    ]  # fmt: skip
    assert layers[0].output_shape == (2, 6, 28, 28)
    assert layers[0].params == 456
    expect_layer_shapes(layers, LENET_SHAPES)
    sequential = layer_shapes(nb, nb.call("lenet_sequential"), (2, 3, 32, 32))
    assert "ReLU" in [layer.kind for layer in sequential]
    expect_layer_shapes(sequential, LENET_SHAPES[:-1] + [(5,)])


def test_layer_shapes_catch_a_padded_first_convolution(nb):
    layers = layer_shapes(nb, nb.new("LeNet5", 3, 2, 576), (2, 3, 32, 32))
    with pytest.raises(AssertionError) as failure:
        expect_layer_shapes(layers, LENET_SHAPES)
    message = str(failure.value)
    assert message.startswith("no layer outputs shape (6, 28, 28); your layers give (6, 32, 32)")
    assert "(16, 6, 6)" in message


def test_layer_shapes_report_the_main_tensor_of_tuple_outputs(nb):
    layers = layer_shapes(nb, "lstm", (3, 20, 1))
    assert [(layer.kind, layer.output_shape) for layer in layers] == [("LSTM", (3, 20, 16))]
    expect_layer_shapes(layers, [(3, 20, 16)], with_batch=True)
    with pytest.raises(AssertionError, match=r"no layer outputs shape \(20, 1\)"):
        expect_layer_shapes(layers, [(20, 1)])


def test_objects_that_are_not_models_are_refused(nb):
    with pytest.raises(AssertionError, match="neither a PyTorch nn.Module nor a Keras model"):
        param_counts(nb, "spy.seen")
