"""Hidden tests for the GPU CNN lab: the student's train_one_epoch and evaluate.

Each test builds its own fresh, seeded ``CNNClassifier(2)`` and the grader's own loader,
optimizer and loss function in the kernel, calls the student's loop with them, and
compares what happened with the grader's reference loop (``checks.train_losses``) run on
an identical copy. Images come from the grader's own image-folder tree (a seed the
notebook never uses), standardised as the notebook does.

The network has dropout, so two runs agree only if they draw the same dropout masks:
the global RNG is seeded to the same value right before the student's loop and the
reference loop, and every loss the tests compare is measured with ``checks.current_loss``
(seeded, the same mask for both models).
"""

from __future__ import annotations

import numpy as np

from grader import checks
from grader.bridge import StudentError
from grader.datasets import image_folder_sample as grader_images
from grader.datasets import standardize_images  # noqa: F401 - compared with the notebook's

#: Identical steps in the gradient-accumulation test, and their plain-SGD learning rate.
REPEATS, SGD_LR = 6, 0.1
#: The seed both loops start from (it fixes their dropout masks).
DROPOUT_SEED = 17
#: Relative agreement required between the student's loop and the reference loop.
SAME_RESULT = 1e-3
#: Epochs of the loss-decrease run, and the fraction the loss must fall by over them.
EPOCHS_TO_FIT, MIN_DROP = 10, 0.2
#: Images at the end of the evaluate test whose label the grader sets wrong on purpose.
WRONG_AT_END = 8


def student_device(nb):
    """The notebook's get_device(), or the CPU if it does not work (graded elsewhere)."""
    try:
        return nb.call("get_device")
    except StudentError:
        return "cpu"


def fresh_model(nb, seed: int, device):
    checks.seed_everything(nb, seed)
    model = nb.new("CNNClassifier", 2)
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
    x, y = grader_images(64, 1_101)
    device = student_device(nb)
    reference = fresh_model(nb, 5, device)
    start = checks.current_loss(nb, reference, x, y)
    checks.train_losses(nb, reference, x, y, steps=REPEATS, lr=SGD_LR, seed=DROPOUT_SEED)
    expected = checks.current_loss(nb, reference, x, y)
    student = fresh_model(nb, 5, device)
    loader = checks.make_loader(
        nb, np.concatenate([x] * REPEATS), np.concatenate([y] * REPEATS), batch_size=len(x)
    )
    optimizer = checks.make_optimizer(nb, student, "sgd", lr=SGD_LR)
    checks.seed_everything(nb, DROPOUT_SEED)
    nb.call("train_one_epoch", student, loader, optimizer, checks.make_loss_fn(nb), device)
    after = checks.current_loss(nb, student, x, y)
    nb.record("loss_after_student_epoch", after)
    nb.record("loss_after_reference_epoch", expected)
    assert not _close(after, start), (
        "train_one_epoch did not change the weights: call optimizer.step() after loss.backward()"
    )
    assert _close(after, expected), (
        f"after {REPEATS} steps of your train_one_epoch the loss is {after:.4f}, but {REPEATS} "
        f"plain SGD steps give {expected:.4f}: gradients add up across steps unless you call "
        "optimizer.zero_grad() in every step"
    )


def test_returns_mean_batch_loss(nb):
    x, y = grader_images(200, 1_202)  # batches of 64, 64, 64 and 8
    device = student_device(nb)
    model = fresh_model(nb, 6, device)
    per_batch = checks.train_losses(
        nb, model, x, y, steps=4, lr=0.0, batch_size=64, seed=DROPOUT_SEED
    )
    sizes = np.array([64, 64, 64, 8])
    loader = checks.make_loader(nb, x, y, batch_size=64)
    optimizer = checks.make_optimizer(nb, model, "sgd", lr=0.0)  # lr 0: the weights stay
    checks.seed_everything(nb, DROPOUT_SEED)
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
    # The grader measures the loss before and after (seeded, one dropout mask for both);
    # what train_one_epoch returns is graded elsewhere.
    x, y = grader_images(64, 1_303)
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
    # The labels are the grader's choice: a fresh network's own eval-mode predictions,
    # except in the last, partial batch of 8, where every label is the other class. A
    # correct evaluate then returns exactly 192/200; averaging per-batch accuracies gives
    # (1 + 1 + 1 + 0) / 4, and dropout left on (no model.eval()) changes predictions of an
    # untrained network, whose two logits are close, so it misses some of the 192.
    x, _ = grader_images(200, 1_404)
    device = student_device(nb)
    model = fresh_model(nb, 8, device)
    labels = checks.predict_classes(nb, model, x)
    labels[-WRONG_AT_END:] = 1 - labels[-WRONG_AT_END:]
    loader = checks.make_loader(nb, x, labels, batch_size=64)
    reported = _number(nb.call("evaluate", model, loader, device), "evaluate")
    assert 0.0 <= reported <= 1.0, (
        f"evaluate returned {reported:g}: an accuracy is a fraction in [0, 1], not a percentage"
    )
    measured = checks.accuracy_of(checks.predict_classes(nb, model, x), labels)
    nb.record("evaluate_reported", reported)
    nb.record("evaluate_measured", measured)
    if abs(reported - 0.75) < 1e-6:
        raise AssertionError(
            "evaluate averaged the per-batch accuracies (the last batch holds 8 images, not "
            "64): divide the correct predictions by all the images instead"
        )
    try:
        checks.expect_reported_accuracy(reported, measured, atol=1e-6)
    except AssertionError as failure:
        raise AssertionError(
            f"{failure}: count correct predictions over all images, with the model in eval "
            "mode (dropout off) under torch.no_grad()"
        ) from None
