"""What is particular to the `autoencoder` lab (seeds 001 E12, 004 #4).

The checks every assignment gets are in test_assignments_content.py. Here: the manual's
222,384 parameters (encoder 110,816, decoder 111,568) are asserted and hold for the
solution's network, every near miss the feedback names is what its cause gives, the bands
are the hidden pass marks, the grader's held-out digits hold both groups, the split
helpers catch what they must, the manual's "500 anomalies" is shown to be a tautology,
and deliberately wrong notebooks fail the checks the examples do not exercise.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from course_files import (
    ROOT,
    assignment_test_files,
    config,
    folder,
    load_test_module,
    read_notebook,
    rubric,
)
from torch import nn

from grader.checks.anomaly import flagged_fraction, percentile_rule
from grader.testing.live import live_notebook
from grader.testing.plugin import run_tests

SOLUTION = ROOT / "solutions" / "autoencoder.ipynb"


def solution_namespace() -> dict:
    """The solution's network and functions, defined here (no data, no training)."""
    namespace: dict = {}
    for cell in read_notebook(SOLUTION).cells:
        source = cell.source
        if cell.cell_type != "code" or not (
            source.startswith("import") or "class Autoencoder" in source or "def " in source
        ):
            continue
        # Definitions only: drop the lines that run them on the notebook's data.
        lines = source.splitlines()
        runs = [i for i, line in enumerate(lines) if line.startswith(("fit_index", "x_fit"))]
        exec("\n".join(lines[: runs[0]] if runs else lines), namespace)  # noqa: S102 - our own reference notebook
    return namespace


def mlp(sizes: list[int], bias: bool = True) -> nn.Sequential:
    pairs = zip(sizes[:-1], sizes[1:], strict=True)
    return nn.Sequential(*(nn.Linear(a, b, bias=bias) for a, b in pairs))


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# -- fast: the files and the references ------------------------------------------------------


def test_manual_counts_are_asserted_and_hold_for_the_solution():
    public = load_test_module("autoencoder", "public/test_autoencoder_basics.py")
    layers = load_test_module("autoencoder", "hidden/test_model.py")
    assert (public.ENCODER_PARAMS, public.DECODER_PARAMS) == (110_816, 111_568)
    assert public.TOTAL_PARAMS == 222_384 == sum(layers.LAYER_PARAMS)
    model = solution_namespace()["Autoencoder"]()
    assert count(model.encoder) == public.ENCODER_PARAMS
    assert count(model.decoder) == public.DECODER_PARAMS
    owned = [sum(p.numel() for p in m.parameters(recurse=False)) for m in model.modules()]
    assert [n for n in owned if n] == layers.LAYER_PARAMS
    x = torch.rand(3, 784)
    assert model.encoder(x).shape == (3, 32) and model(x).shape == (3, 784)
    # A bottleneck, unlike 001 E13's 6,272-number "code" for 784 pixels.
    assert model.encoder(x).shape[1] < x.shape[1]


def test_near_misses_are_what_their_causes_give():
    misses = load_test_module("autoencoder", "public/test_autoencoder_basics.py").NEAR_MISSES
    keras_004 = (mlp([784, 128, 64, 64]), mlp([64, 64, 128, 784]))
    assert [count(part) for part in keras_004] == [112_896, 113_616]  # seed 004's counts
    assert sum(count(part) for part in keras_004) in misses
    assert count(mlp([784, 64, 16, 64, 784])) in misses
    assert count(mlp([784, 128, 64, 32, 64, 128, 784], bias=False)) in misses
    assert count(mlp([784, 128, 64, 16, 64, 128, 784])) in misses


def test_bands_are_the_hidden_pass_marks():
    detection = load_test_module("autoencoder", "hidden/test_detection.py")
    criteria = {c.id: c for c in rubric("autoencoder").criteria}
    for tier in ("offline", "full"):
        auc = criteria["anomaly_auc"].bands[tier][0]
        assert auc.fraction == 1.0 and auc.at_least == detection.PASS_AUC[tier]
        ratio = criteria["reconstruction"].bands[tier][0]
        assert ratio.fraction == 1.0 and ratio.at_most == detection.PASS_RATIO[tier]


def test_held_out_digits_hold_normal_images_and_sevens():
    detection = load_test_module("autoencoder", "hidden/test_detection.py")
    x, y = detection.held_out("offline")
    assert x.shape == (detection.HELD_OUT_IMAGES, 784) and 0 <= x.min() and x.max() <= 1
    sevens = int(np.count_nonzero(y == detection.ANOMALY_DIGIT))
    assert 50 < sevens < 200 and set(np.unique(y)) == set(range(10))


def test_solution_split_and_the_split_check():
    split = load_test_module("autoencoder", "hidden/test_split.py")
    labels = np.random.default_rng(1).integers(0, 10, 120)
    fit, val = solution_namespace()["split_normal"](labels, 7, 0.1, 0)
    split.expect_normal_split(labels, fit, val, 7, "here")
    normal = np.flatnonzero(labels != 7)
    with pytest.raises(AssertionError, match="anomaly digit 7"):
        split.expect_normal_split(labels, np.arange(100), np.arange(100, 120), 7, "all")
    with pytest.raises(AssertionError, match="used twice"):
        split.expect_normal_split(labels, normal, normal[:5], 7, "overlap")
    with pytest.raises(AssertionError, match="every normal image"):
        split.expect_normal_split(labels, normal[10:], normal[:5], 7, "some left out")


def test_the_manuals_500_anomalies_are_five_percent_of_anything():
    """004's rule, a 95th percentile of the test errors themselves, flags 500 of 10,000 errors
    whatever they are: it says nothing about detection, so the grader never scores it."""
    rng = np.random.default_rng(4)
    for errors in (rng.uniform(size=10_000), rng.gamma(2.0, 0.01, 10_000), np.arange(10_000.0)):
        flagged = flagged_fraction(errors, percentile_rule(95)(errors)) * len(errors)
        assert round(flagged) == 500


def test_solution_threshold_rule_is_the_graders():
    rule = solution_namespace()["anomaly_threshold"]
    errors = np.random.default_rng(2).gamma(2.0, 0.01, 57)
    assert rule(errors) == percentile_rule(95)(errors)
    assert rule(errors, 99) == percentile_rule(99)(errors)


# -- slow: real kernels -------------------------------------------------------------------

WRONG = """
import numpy as np
import torch
from torch import nn

class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64),
                                     nn.ReLU(), nn.Linear(64, 32))
        self.decoder = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 128),
                                     nn.ReLU(), nn.Linear(128, 784))    # no sigmoid

    def forward(self, x):
        return self.decoder(self.encoder(x))

def split_normal(labels, anomaly_digit, val_fraction, seed):
    normal = np.flatnonzero(labels != 7)                                # digit hard-coded
    shuffled = np.random.default_rng(seed).permutation(normal)
    n_val = int(len(shuffled) * val_fraction)
    return shuffled[n_val:], shuffled[:n_val]

def train_autoencoder(model, images, epochs, lr, batch_size, seed):
    x = torch.as_tensor(images)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = ((model(x) - x) ** 2).sum()                              # a sum, not a mean
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history

def reconstruction_errors(model, images):
    with torch.no_grad():
        x = torch.as_tensor(images)
        return ((model(x) - x) ** 2).mean(dim=0).numpy()                # one per pixel

def anomaly_threshold(errors, percentile=95.0):
    ordered = np.sort(errors)
    return float(ordered[int(len(ordered) * percentile / 100)])         # no interpolation
"""

CAUGHT = {
    "hidden/test_model.py::test_outputs_are_pixels": "nn.Sigmoid()",
    "hidden/test_split.py::test_split_normal_on_fresh_labels": "anomaly digit 4",
    "hidden/test_training.py::test_steps_match_full_batch_adam": "nn.MSELoss",
    "hidden/test_detection.py::test_reconstruction_errors_function": "one per pixel",
    "hidden/test_detection.py::test_threshold_rule": "the 95th percentile is",
}
STILL_RIGHT = [
    "public/test_autoencoder_basics.py::test_parameter_counts",
    "public/test_autoencoder_basics.py::test_shapes",
    "hidden/test_model.py::test_layer_shapes",
]


@pytest.mark.slow
def test_wrong_answers_fail_with_their_message():
    context = {"tier": "offline", "gpu_available": False}
    limits = config("autoencoder").limits
    with live_notebook([WRONG], limits=limits, context=context) as (_nb, run):
        assert not run.execution.errors, run.execution.errors
        outcomes, _ = run_tests(
            assignment_test_files("autoencoder"),
            run.bridge,
            context,
            folder("autoencoder") / "tests",
        )
    by_id = {f"{o.file}::{o.name}": o for o in outcomes}
    for test_id, words in CAUGHT.items():
        assert by_id[test_id].outcome == "failed", f"{test_id} passed a wrong answer"
        assert words in by_id[test_id].message, by_id[test_id].message
    for test_id in STILL_RIGHT:
        assert by_id[test_id].outcome == "passed", f"{test_id}: {by_id[test_id].message}"
