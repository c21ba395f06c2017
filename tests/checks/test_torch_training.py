"""Training, accuracy and device checks on PyTorch models, with student-style loops."""

from __future__ import annotations

import numpy as np
import pytest

from grader.bridge import StudentError
from grader.checks import (
    accuracy,
    accuracy_of,
    current_loss,
    epoch_history,
    expect_accuracy_at_least,
    expect_batches_on,
    expect_batches_on_model_device,
    expect_cuda_memory_used,
    expect_loss_decrease,
    expect_model_on,
    expect_repeatable,
    expect_reported_accuracy,
    expect_step_ran,
    expect_training_lowers_loss,
    make_loader,
    make_loss_fn,
    make_optimizer,
    model_devices,
    observe_training_step,
    predict_classes,
    train_losses,
)
from grader.testing.fixture import Notebook

CELLS = [
    """
import torch
import torch.nn as nn

def make_mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))

class NoGradNet(nn.Module):
    '''A classic mistake: the forward pass runs under no_grad, so nothing learns.'''
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        with torch.no_grad():
            out = self.fc(x)
        return out.requires_grad_()

def get_device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")

def train_one_epoch(model, loader, optimizer, loss_fn, device):
    model.train()
    total = 0.0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)

def train_one_epoch_without_step(model, loader, optimizer, loss_fn, device):
    total = 0.0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        total += loss.item()
    return total / len(loader)

def train_one_epoch_forgetting_the_device(model, loader, optimizer, loss_fn, device):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss_fn(model(xb), yb).backward()
        optimizer.step()
    return 0.0

def argmax_model(reverse=False):
    '''Predicts argmax (or argmin) of its 4 inputs: accuracy known in advance.'''
    model = nn.Linear(4, 4, bias=False)
    with torch.no_grad():
        model.weight.copy_(-torch.eye(4) if reverse else torch.eye(4))
    return model

def first_input_model():
    '''One output column equal to the first input: a binary classifier by threshold.'''
    model = nn.Linear(4, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0]]))
        model.bias.zero_()
    return model

def evaluate(model, loader, device):
    model.eval()
    correct = 0
    with torch.no_grad():
        for xb, yb in loader:
            correct += (model(xb.to(device)).argmax(1).cpu() == yb).sum().item()
    return correct / len(loader.dataset)

def evaluate_hard_coded(model, loader, device):
    return 0.99

X_KERNEL = torch.randn(50, 4)
EPOCHS = 3
history = [1.2, 0.9, 0.7]
short_history = [1.2, 0.9]
text_history = ["low", "lower", "lowest"]
"""
]


def blobs(n: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three separable clusters in 4-D: any working model learns them quickly."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[3, 0, 0, 0], [0, 3, 0, 0], [0, 0, 3, 0]], dtype=np.float32)
    x = centres[y] + rng.normal(scale=0.5, size=(n, 4)).astype(np.float32)
    return x.astype(np.float32), y.astype(np.int64)


def test_seeded_run_decreases_the_loss(nb):
    x, y = blobs()
    losses = train_losses(nb, nb.call("make_mlp"), x, y, steps=15, optimizer="sgd", lr=0.1)
    assert len(losses) == 15
    expect_loss_decrease(losses, k=3, min_relative_drop=0.2)
    assert nb.measured["losses"] == losses


def test_current_loss_measures_without_training(nb):
    """Measuring leaves the model as it was; training it does show in the measurement."""
    x, y = blobs()
    model = nb.call("make_mlp")
    before = current_loss(nb, model, x, y)
    assert current_loss(nb, model, x, y) == before, "measuring must not move any weight"
    train_losses(nb, model, x, y, steps=10, lr=0.1)
    after = current_loss(nb, model, x, y)
    assert after < before, "a trained model's current loss must reflect the training"
    with pytest.raises(AssertionError, match="did not decrease"):
        expect_loss_decrease([after, before], k=1)


def test_model_that_never_updates_fails(nb):
    x, y = blobs()
    losses = train_losses(nb, nb.new("NoGradNet"), x, y, steps=8, optimizer="adam", lr=0.05)
    with pytest.raises(AssertionError, match="the training loss did not decrease: mean of the"):
        expect_loss_decrease(losses)


def test_diverging_run_fails_on_the_first_non_finite_loss(nb):
    x, y = blobs()
    regression = nb.call("nn.Linear", 4, 1)
    losses = train_losses(
        nb, regression, x * 1e3, y.astype(np.float32), steps=30, loss="mse", lr=10.0
    )
    assert not all(np.isfinite(losses))
    with pytest.raises(AssertionError, match=r"the training loss became (nan|inf) at step \d+"):
        expect_loss_decrease(losses)
    with pytest.raises(AssertionError, match="became nan at step 2 of 3"):
        expect_loss_decrease([2.3, float("nan"), 1.0])
    with pytest.raises(AssertionError, match="need at least 2 values"):
        expect_loss_decrease([2.3])


def test_seeded_runs_repeat_and_restore_the_weights(nb):
    x, y = blobs()
    model = nb.call("make_mlp")
    first = train_losses(nb, model, x, y, steps=5, lr=0.1, seed=3, restore_weights=True)
    second = train_losses(nb, model, x, y, steps=5, lr=0.1, seed=3, restore_weights=True)
    expect_repeatable(first, second)
    kept = train_losses(nb, model, x, y, steps=5, lr=0.1, seed=3)
    moved_on = train_losses(nb, model, x, y, steps=5, lr=0.1, seed=3)
    assert kept == first
    with pytest.raises(AssertionError, match="not repeatable"):
        expect_repeatable(first, moved_on)


def test_students_own_loop_with_kernel_built_objects(nb):
    x, y = blobs()
    model = nb.call("make_mlp")
    loader = make_loader(nb, x, y, batch_size=32, shuffle=True, seed=1)
    optimizer = make_optimizer(nb, model, "sgd", lr=0.05, momentum=0.9)
    loss_fn = make_loss_fn(nb, "cross_entropy")
    device = nb.call("get_device")
    good = [nb.call("train_one_epoch", model, loader, optimizer, loss_fn, device) for _ in range(4)]
    expect_loss_decrease(good, k=1, what="epoch loss")

    stuck_model = nb.call("make_mlp")
    stuck_optimizer = make_optimizer(nb, stuck_model, "sgd", lr=0.05)
    stuck = [
        nb.call(
            "train_one_epoch_without_step", stuck_model, loader, stuck_optimizer, loss_fn, device
        )
        for _ in range(4)
    ]
    with pytest.raises(AssertionError, match="the epoch loss did not decrease"):
        expect_loss_decrease(stuck, k=1, what="epoch loss")


def test_accuracy_is_counted_by_the_grader(nb, monkeypatch):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 4)).astype(np.float32)
    labels = x.argmax(axis=1)
    predictions = predict_classes(nb, nb.call("argmax_model"), x, batch_size=64)
    assert predictions.shape == (300,)
    assert accuracy_of(predictions, labels) == 1.0
    monkeypatch.setattr("grader.checks.predictions.MAX_REQUEST_BYTES", 16 * 70)  # 70 rows a request
    chunked = predict_classes(nb, nb.call("argmax_model"), x, batch_size=64)
    assert np.array_equal(chunked, predictions)
    monkeypatch.undo()
    held_in_kernel = predict_classes(nb, nb.call("argmax_model"), "X_KERNEL")
    assert np.array_equal(held_in_kernel, nb.get("X_KERNEL").argmax(axis=1))
    value = accuracy(nb, nb.call("argmax_model", True), x, labels)
    assert value == 0.0  # argmin never equals argmax here
    assert nb.measured["accuracy"] == value
    with pytest.raises(AssertionError, match=r"^accuracy 0, expected at least 0\.9$"):
        expect_accuracy_at_least(value, 0.9)
    expect_accuracy_at_least(1.0, 0.9)
    with pytest.raises(AssertionError, match="expected at least"):
        expect_accuracy_at_least(float("nan"), 0.0)
    with pytest.raises(AssertionError, match="gave 300 predictions for 301 examples"):
        accuracy_of(predictions, np.zeros(301))


def test_single_output_models_need_a_threshold(nb):
    x = np.array([[1.0, 0, 0, 0], [-1.0, 0, 0, 0]], dtype=np.float32)
    model = nb.call("first_input_model")
    assert predict_classes(nb, model, x, binary_threshold=0.0).tolist() == [1, 0]
    assert predict_classes(nb, model, x, binary_threshold=2.0).tolist() == [0, 0]
    with pytest.raises(StudentError, match="binary_threshold"):
        predict_classes(nb, model, x)


def test_evaluate_must_agree_with_the_grader_count(nb):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(100, 4)).astype(np.float32)
    labels = x.argmax(axis=1)
    labels[:30] = (labels[:30] + 1) % 4  # the model gets exactly 70% right
    model = nb.call("argmax_model")
    measured = accuracy(nb, model, x, labels)
    assert measured == pytest.approx(0.7)
    loader = make_loader(nb, x, labels, batch_size=16)
    device = nb.call("get_device")
    expect_reported_accuracy(nb.call("evaluate", model, loader, device), measured)
    with pytest.raises(AssertionError, match="reports an accuracy of 0.99, but the model's"):
        expect_reported_accuracy(nb.call("evaluate_hard_coded", model, loader, device), measured)


def test_devices_without_a_gpu_report_cpu(nb):
    devices = model_devices(nb, nb.call("make_mlp"))
    assert devices.param_devices == ["cpu"]
    expect_model_on(devices, "cpu")
    if not devices.cuda_available:
        with pytest.raises(AssertionError, match="parameters are on cpu, expected cuda"):
            expect_model_on(devices, "cuda")


def test_batches_are_watched_during_the_students_step(nb):
    x, y = blobs(64)
    model = nb.call("make_mlp")
    loader = make_loader(nb, x, y, batch_size=16)
    optimizer = make_optimizer(nb, model, "sgd", lr=0.1)
    loss_fn = make_loss_fn(nb)
    step = observe_training_step(
        nb, model, "train_one_epoch", model, loader, optimizer, loss_fn, nb.call("get_device")
    )
    assert step.forward_calls == 4 and step.error is None
    assert isinstance(step.result, float)
    expect_step_ran(step)
    expect_batches_on_model_device(step)
    if not step.cuda_available:
        assert step.batch_devices == ["cpu"] and step.peak_cuda_memory_bytes is None
        with pytest.raises(AssertionError, match="CUDA was not available"):
            expect_cuda_memory_used(step)


def test_batches_left_behind_are_caught(nb):
    """On the meta device a model cannot run CPU batches: the same failure as a GPU model."""
    x, y = blobs(32)
    model = nb.method(nb.call("make_mlp"), "to", "meta")
    loader = make_loader(nb, x, y, batch_size=16)
    optimizer = make_optimizer(nb, model, "sgd", lr=0.1)
    step = observe_training_step(
        nb, model, "train_one_epoch_forgetting_the_device", model, loader, optimizer,
        make_loss_fn(nb), "meta",
    )  # fmt: skip
    assert step.batch_devices == ["cpu"] and step.param_devices == ["meta"]
    assert step.error is not None
    with pytest.raises(AssertionError, match="batches reached the model on cpu while its"):
        expect_batches_on_model_device(step)
    with pytest.raises(AssertionError, match="your training step raised"):
        expect_step_ran(step)
    with pytest.raises(AssertionError, match="batches reached the model on cpu, expected cuda"):
        expect_batches_on(step, "cuda")


@pytest.mark.gpu
def test_gpu_training_step_uses_the_gpu(nb):
    x, y = blobs(64)
    device = nb.call("get_device")
    model = nb.method(nb.call("make_mlp"), "to", device)
    loader = make_loader(nb, x, y, batch_size=16)
    optimizer = make_optimizer(nb, model, "sgd", lr=0.1)
    loss_fn = make_loss_fn(nb)
    step = observe_training_step(
        nb, model, "train_one_epoch", model, loader, optimizer, loss_fn, device
    )
    expect_model_on(step, "cuda")
    expect_batches_on(step, "cuda")
    expect_cuda_memory_used(step)
    forgetful = observe_training_step(
        nb, model, "train_one_epoch_forgetting_the_device", model, loader, optimizer, loss_fn,
        device,
    )  # fmt: skip
    with pytest.raises(AssertionError, match="batches reached the model on cpu"):
        expect_batches_on(forgetful, "cuda")


def test_training_must_lower_the_loss_and_both_values_are_recorded(nb):
    x, y = blobs()
    loader = make_loader(nb, x, y, batch_size=32, shuffle=True, seed=1)
    loss_fn = make_loss_fn(nb, "cross_entropy")
    device = nb.call("get_device")

    def run(model, loop):
        optimizer = make_optimizer(nb, model, "sgd", lr=0.05)
        return lambda: [nb.call(loop, model, loader, optimizer, loss_fn, device) for _ in range(3)]

    good = nb.call("make_mlp")
    before, after = expect_training_lowers_loss(nb, good, x, y, run(good, "train_one_epoch"))
    assert after < before
    stuck = nb.call("make_mlp")
    with pytest.raises(AssertionError, match="did not decrease by at least 10%"):
        expect_training_lowers_loss(
            nb, stuck, x, y, run(stuck, "train_one_epoch_without_step"), min_relative_drop=0.1
        )


def test_epoch_history_names_what_is_wrong(nb):
    assert epoch_history(nb, "history") == [1.2, 0.9, 0.7]
    with pytest.raises(AssertionError, match="has 2 entries but EPOCHS is 3"):
        epoch_history(nb, "short_history")
    with pytest.raises(AssertionError, match="must be a list of numbers"):
        epoch_history(nb, "text_history")
    with pytest.raises(AssertionError, match="no `losses`: keep them"):
        epoch_history(nb, "losses", missing_hint="keep them")


def test_epoch_history_without_epochs_takes_the_notebook_at_its_word(nb):
    # A notebook whose own cells never use EPOCHS (a hard-coded range(2), say; the
    # grader's injected EPOCHS alone does not count) is not held to it: each entry is
    # one epoch, and the detail says so. Wrong types and a missing list still fail.
    own = Notebook(nb._bridge, {"notebook_names": frozenset({"short_history", "text_history"})})
    assert epoch_history(own, "short_history") == [1.2, 0.9]
    assert own.notes == [
        "your notebook does not use EPOCHS: the 2 entries of `short_history` were taken as "
        "one per epoch"
    ]
    with pytest.raises(AssertionError, match="must be a list of numbers"):
        epoch_history(own, "text_history")
    with pytest.raises(AssertionError, match="no `losses`"):
        epoch_history(own, "losses")
    # A notebook that uses EPOCHS is still held to it, and an explicit count always wins.
    uses = Notebook(nb._bridge, {"notebook_names": frozenset({"EPOCHS", "short_history"})})
    with pytest.raises(AssertionError, match="has 2 entries but EPOCHS is 3"):
        epoch_history(uses, "short_history")
    with pytest.raises(AssertionError, match="has 2 entries but EPOCHS is 5"):
        epoch_history(own, "short_history", 5)
    assert not uses.notes
    # Per training step instead of per epoch (a GAN's losses): the count's name and unit.
    with pytest.raises(AssertionError, match="has 2 entries but STEPS is 4: one per step"):
        epoch_history(own, "short_history", 4, count_name="STEPS", unit="step")
    assert epoch_history(own, "short_history", count_name="STEPS", unit="step") == [1.2, 0.9]
    assert own.notes[-1].startswith("your notebook does not use STEPS: the 2 entries")
