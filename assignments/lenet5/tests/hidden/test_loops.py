"""Hidden tests for the LeNet-5 lab: the student's train_one_epoch and evaluate.

Each test builds its own fresh, seeded ``LeNet5`` and the grader's own loader, optimizer
and loss function in the kernel, calls the student's loop with them, and compares what
happened with the grader's reference loop (``checks.train_losses``) run on an identical
copy. Images come from grader.datasets with seeds the notebook never uses.
"""

from __future__ import annotations

import functools

import numpy as np

from grader import checks
from grader.bridge import StudentError
from grader.datasets import load_cifar10

#: Identical steps in the gradient-accumulation test, and their plain-SGD learning rate.
REPEATS, SGD_LR = 6, 0.2
#: Relative agreement required between the student's loop and the reference loop.
SAME_RESULT = 1e-3
#: Epochs of the loss-decrease run, and the fraction the loss must fall by over them.
EPOCHS_TO_FIT, MIN_DROP = 10, 0.02


@functools.lru_cache(maxsize=4)
def grader_images(tier: str, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` test-pool images the notebook never saw in training (seeded here)."""
    split = load_cifar10(n_train=0, n_test=count, seed=seed, tier=tier)
    return split.x_test, split.y_test


def student_device(nb):
    """The notebook's get_device(), or the CPU if it does not work (graded elsewhere)."""
    try:
        return nb.call("get_device")
    except StudentError:
        return "cpu"


#: A batch the loop tests show the student's network first, to see what it returns.
PROBE_BATCH = np.random.default_rng(11).uniform(0, 1, size=(4, 3, 32, 32))


def fresh_model(nb, seed: int, device):
    """A fresh seeded LeNet5: the student's, or the grader's own when the student's
    returns probabilities (that mistake is the output criterion's, not the loop's)."""
    checks.seed_everything(nb, seed)
    model = checks.loop_model(
        nb, nb.new("LeNet5"), PROBE_BATCH, name="LeNet5", reference="torch.reference_lenet5"
    )
    nb.method(model, "to", device)
    return model


def _number(value: object, what: str) -> float:
    """A float from a Python number or a 0-d array (a returned tensor arrives as one)."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        return float(value.reshape(()))
    if type(value) in (int, float):
        return float(value)
    raise AssertionError(f"{what} returned a {type(value).__name__}, expected a float")


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= SAME_RESULT * max(abs(b), 1e-6)


def test_gradients_do_not_accumulate(nb):
    x, y = grader_images(nb.tier, 64, 1_101)
    device = student_device(nb)
    reference = fresh_model(nb, 5, device)
    expected = checks.train_losses(nb, reference, x, y, steps=REPEATS + 1, lr=SGD_LR)
    student = fresh_model(nb, 5, device)
    loader = checks.make_loader(
        nb, np.concatenate([x] * REPEATS), np.concatenate([y] * REPEATS), batch_size=len(x)
    )
    optimizer = checks.make_optimizer(nb, student, "sgd", lr=SGD_LR)
    nb.call("train_one_epoch", student, loader, optimizer, checks.make_loss_fn(nb), device)
    after = checks.current_loss(nb, student, x, y)
    nb.record("loss_after_student_epoch", after)
    nb.record("loss_after_reference_epoch", expected[REPEATS])
    assert not _close(after, expected[0]), (
        "train_one_epoch did not change the weights: call optimizer.step() after loss.backward()"
    )
    assert _close(after, expected[REPEATS]), (
        f"after {REPEATS} steps of your train_one_epoch the loss is {after:.4f}, but {REPEATS} "
        f"plain SGD steps give {expected[REPEATS]:.4f}: gradients add up across steps unless "
        "you call optimizer.zero_grad() in every step"
    )


def test_returns_mean_batch_loss(nb):
    x, y = grader_images(nb.tier, 200, 1_202)  # batches of 64, 64, 64 and 8
    device = student_device(nb)
    model = fresh_model(nb, 6, device)
    per_batch = checks.train_losses(nb, model, x, y, steps=4, lr=0.0, batch_size=64)
    sizes = np.array([64, 64, 64, 8])
    loader = checks.make_loader(nb, x, y, batch_size=64)
    optimizer = checks.make_optimizer(nb, model, "sgd", lr=0.0)  # lr 0: the weights stay
    returned = nb.call("train_one_epoch", model, loader, optimizer, checks.make_loss_fn(nb), device)
    value = nb.record("returned_loss", _number(returned, "train_one_epoch"))
    batch_mean = float(np.mean(per_batch))
    example_mean = float(np.dot(per_batch, sizes) / sizes.sum())
    if _close(value, batch_mean) or _close(value, example_mean):
        return
    if _close(value, per_batch[-1]):
        raise AssertionError(
            "train_one_epoch returned the last batch's loss, not the mean over the epoch's batches"
        )
    raise AssertionError(
        f"train_one_epoch returned {value:.4f}; the mean of the batch losses is {batch_mean:.4f}"
    )


def test_loss_decreases(nb):
    # LeNet-5 sits near ln 10 = 2.30 for its first few hundred steps on new images, so
    # the run fits a small set instead: 10 epochs of 4 batches, after which a working
    # loop has lowered the loss by 4-20% (docs/calibration.md) and a broken one by 0. The
    # grader measures the loss before and after; what train_one_epoch returns is graded
    # elsewhere.
    x, y = grader_images(nb.tier, 64, 1_303)
    device = student_device(nb)
    model = fresh_model(nb, 7, device)
    loader = checks.make_loader(nb, x, y, batch_size=16, shuffle=True, seed=3)
    optimizer = checks.make_optimizer(nb, model, "adam", lr=1e-3)
    loss_fn = checks.make_loss_fn(nb)

    def train() -> None:
        for _ in range(EPOCHS_TO_FIT):
            nb.call("train_one_epoch", model, loader, optimizer, loss_fn, device)

    checks.expect_training_lowers_loss(
        nb,
        model,
        x,
        y,
        train,
        min_relative_drop=MIN_DROP,
        what=f"loss before and after {EPOCHS_TO_FIT} epochs of your train_one_epoch",
    )


def test_evaluate_matches_grader(nb):
    x, y = grader_images(nb.tier, 200, 1_404)  # a partial last batch of 8
    device = student_device(nb)
    model = nb.ref("model") if nb.exists("model") else fresh_model(nb, 8, device)
    loader = checks.make_loader(nb, x, y, batch_size=64)
    reported = _number(nb.call("evaluate", model, loader, device), "evaluate")
    assert 0.0 <= reported <= 1.0, (
        f"evaluate returned {reported:g}: an accuracy is a fraction in [0, 1], not a percentage"
    )
    measured = checks.accuracy_of(checks.predict_classes(nb, model, x), y)
    nb.record("evaluate_reported", reported)
    nb.record("evaluate_measured", measured)
    checks.expect_reported_accuracy(reported, measured, atol=1e-6)
