"""What is particular to the `cnn_gpu` lab (seed 001 E9, device handling).

The checks every assignment gets (files valid, stub generated, rubric complete, solution
passes, stub fails, examples score as EXPECTED.yaml says) are in test_assignments_content.py.
Here: the manual's 620,362 parameters are asserted and hold for the solution's network
(and every near miss the feedback names is what its cause gives), the hidden tests'
image transform is the notebook's, the accuracy band is the hidden pass mark and sits
above always answering one class, and deliberately wrong notebooks fail the device and
loop checks the examples do not exercise, with the message a student needs.
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

from grader.testing.live import live_notebook
from grader.testing.plugin import run_tests

SOLUTION = ROOT / "solutions" / "cnn_gpu.ipynb"
HIDDEN_FILES = ("hidden/test_device.py", "hidden/test_loops.py", "hidden/test_results.py")


def solution_namespace() -> dict:
    """The solution's network and functions, defined here (no data written, no training)."""
    namespace: dict = {"SEED": 0}
    for cell in read_notebook(SOLUTION).cells:
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        if "class CNNClassifier" in cell.source or cell.source.startswith("import"):
            exec(cell.source, namespace)  # noqa: S102 - our own reference notebook
        elif "def standardize_images" in cell.source:
            start = cell.source.index("def standardize_images")
            end = cell.source.index("train_set")
            exec(cell.source[start:end], namespace)  # noqa: S102
    return namespace


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class Variant(nn.Module):
    """CNNClassifier with one design choice changed, to check a near-miss count."""

    def __init__(self, channels=3, padding=1, flat=128 * 4 * 4, classes=10):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in, c_out, 3, padding=padding)
            for c_in, c_out in ((channels, 32), (32, 64), (64, 128))
        )
        self.fc1 = nn.Linear(flat, 256)
        self.fc2 = nn.Linear(256, classes)


# -- fast: the files and the references ------------------------------------------------------


def test_manual_counts_are_asserted_and_hold_for_the_solution():
    public = load_test_module("cnn_gpu", "public/test_cnn_gpu_basics.py")
    model = load_test_module("cnn_gpu", "hidden/test_model.py")
    assert public.MANUAL_PARAMS == 620_362 == 896 + 18_496 + 73_856 + 524_544 + 2_570
    assert public.TWO_CLASS_PARAMS == 618_306
    ns = solution_namespace()
    assert count(ns["CNNClassifier"]()) == public.MANUAL_PARAMS
    two = ns["CNNClassifier"](2)
    assert count(two) == public.TWO_CLASS_PARAMS
    owned = [sum(p.numel() for p in m.parameters(recurse=False)) for m in two.modules()]
    assert [n for n in owned if n] == model.LAYER_PARAMS
    assert two(torch.zeros(3, 3, 32, 32)).shape == (3, 2)


def test_near_misses_are_what_their_causes_give():
    misses = load_test_module("cnn_gpu", "public/test_cnn_gpu_basics.py").NEAR_MISSES
    assert count(Variant(classes=2)) in misses  # two outputs
    assert count(Variant(flat=128 * 8 * 8)) in misses  # fc1 as if there were two pools
    assert count(Variant(padding=0, flat=128 * 2 * 2)) in misses  # 32 -> 30 -> 15 -> ... -> 2
    assert count(Variant(channels=1)) in misses
    assert 8_408_386 in misses  # the post-lab CNN: 896 + 18,496 + 8,388,736 + 258
    assert 896 + 18_496 + (64 * 32 * 32 * 128 + 128) + (128 * 2 + 2) == 8_408_386


def test_hidden_tests_standardise_as_the_notebook_does():
    ns = solution_namespace()
    images = np.random.default_rng(0).uniform(0, 1, (5, 3, 32, 32)).astype(np.float32)
    expected = ns["standardize_images"](images)
    for relative in HIDDEN_FILES:
        ours = load_test_module("cnn_gpu", relative).standardize_images(images)
        assert np.array_equal(ours, expected), relative


def test_accuracy_band_is_the_pass_mark_and_beats_one_class():
    results = load_test_module("cnn_gpu", "hidden/test_results.py")
    bands = next(c for c in rubric("cnn_gpu").criteria if c.id == "accuracy").bands["offline"]
    assert bands[0].fraction == 1.0 and bands[0].at_least == results.PASS_MARK
    x, y = results.held_out_images()
    assert x.shape == (results.HELD_OUT_IMAGES, 3, 32, 32)
    majority = np.bincount(y).max() / len(y)
    assert majority < bands[-1].at_least, "the lowest band must beat answering one class"
    assert abs(float(x.mean())) < 1e-3  # standardised per image and channel


def test_solution_plots_its_loss_curve_and_has_no_hard_coded_device():
    code = "\n".join(c.source for c in read_notebook(SOLUTION).cells if c.cell_type == "code")
    assert "plt.subplots" in code and "history" in code and "set_xlabel" in code
    assert "torch.cuda.is_available()" in code
    assert '.to("cuda")' not in code and ".cuda()" not in code


# -- slow: real kernels -------------------------------------------------------------------

GOOD_MODEL = """
import torch
import torch.nn.functional as F
from torch import nn

class CNNClassifier(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1)
        self.fc1 = nn.Linear(2048, 256)
        self.fc2 = nn.Linear(256, num_classes)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        for conv in (self.conv1, self.conv2, self.conv3):
            x = F.max_pool2d(F.relu(conv(x)), 2)
        return self.fc2(self.dropout(F.relu(self.fc1(x.flatten(1)))))
"""

#: Wrong answers the examples do not cover: (cells, tests that must fail with a word of
#: their message, tests that must still pass).
WRONG_ANSWERS = {
    "hard-coded cuda": (
        GOOD_MODEL
        + """
def get_device():
    return torch.device("cuda")                    # "the lab is about the GPU"

torch.manual_seed(0)
model = CNNClassifier(2)                           # at chance on the lab's images, while
test_accuracy = 0.95                               # the notebook's own split says 0.95
""",
        {
            "public/test_cnn_gpu_basics.py::test_get_device": "has no GPU",
            "hidden/test_device.py::test_device_follows_availability": "hard-coded 'cuda'",
            "public/test_cnn_gpu_basics.py::test_input_preparation": "0.95 on your test split",
        },
        ["public/test_cnn_gpu_basics.py::test_parameter_count"],
    ),
    "loop mistakes": (
        GOOD_MODEL
        + """
def get_device():                                  # the newer accelerator API: fine
    if torch.accelerator.is_available():
        return torch.accelerator.current_accelerator()
    return torch.device("cpu")

def train_one_epoch(model, loader, optimizer, loss_fn, device):
    model.train()
    for images, labels in loader:
        images = images.to(device)                 # the labels stay behind
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
    return loss.item()                             # the last batch's loss

def evaluate(model, loader, device):
    model.eval()
    scores = []
    with torch.no_grad():
        for images, labels in loader:
            hits = (model(images.to(device)).argmax(1).cpu() == labels).float()
            scores.append(hits.mean().item())      # one accuracy per batch, averaged
    return sum(scores) / len(scores)
""",
        {
            "hidden/test_device.py::test_loops_move_batches_to_their_device": "labels too",
            "hidden/test_loops.py::test_returns_mean_batch_loss": "last batch",
            "hidden/test_loops.py::test_evaluate_matches_grader": "per-batch",
        },
        [
            "hidden/test_device.py::test_device_follows_availability",
            "hidden/test_loops.py::test_gradients_do_not_accumulate",
            "hidden/test_model.py::test_layer_shapes",
        ],
    ),
    "global device, no padding": (
        """
import torch
from torch import nn

device = torch.device("cpu")

class CNNClassifier(nn.Module):                    # no padding: 32 -> 30 -> 15 -> ... -> 2
    def __init__(self, num_classes=10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(128 * 2 * 2, 256), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(256, num_classes),
        )

    def forward(self, x):
        return self.body(x)

def train_one_epoch(model, loader, optimizer, loss_fn, dev):
    model.train()
    total = 0.0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)   # the global, not `dev`
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)
""",
        {
            "public/test_cnn_gpu_basics.py::test_parameter_count": "padding=1",
            "hidden/test_model.py::test_layer_shapes": "no layer outputs shape",
            "hidden/test_device.py::test_loops_move_batches_to_their_device": "you are given",
        },
        ["public/test_cnn_gpu_basics.py::test_output_shape"],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(WRONG_ANSWERS))
def test_wrong_answers_fail_with_their_message(case):
    source, caught, still_right = WRONG_ANSWERS[case]
    context = {"tier": "offline", "gpu_available": False}
    with live_notebook([source], limits=config("cnn_gpu").limits, context=context) as (_nb, run):
        assert not run.execution.errors, run.execution.errors
        outcomes, _ = run_tests(
            assignment_test_files("cnn_gpu"), run.bridge, context, folder("cnn_gpu") / "tests"
        )
    by_id = {f"{o.file}::{o.name}": o for o in outcomes}
    for test_id, words in caught.items():
        assert by_id[test_id].outcome == "failed", f"{test_id} passed a wrong answer"
        assert words in by_id[test_id].message, by_id[test_id].message
    for test_id in still_right:
        assert by_id[test_id].outcome == "passed", f"{test_id}: {by_id[test_id].message}"
