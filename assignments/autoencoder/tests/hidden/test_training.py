"""Hidden tests for the autoencoder lab: the student's train_autoencoder, step by step.

Every test builds fresh, seeded ``Autoencoder`` networks in the kernel and trains them on
digits the grader draws here (a seed the notebook never uses). With ``batch_size`` equal
to the number of images, every epoch is one full-batch Adam step on the mean squared
error, so the student's loop and the grader's reference loop (``checks.train_losses``
with the images as their own targets) must agree step for step from identical weights.
"""

from __future__ import annotations

import functools

import numpy as np

from grader import checks
from grader.datasets import load_mnist

#: Full-batch Adam steps compared with the reference, and their learning rate.
STEPS, ADAM_LR = 10, 0.01
#: Relative agreement required between the student's loop and the reference loop.
SAME_RESULT = 1e-3
#: Mini-batch epochs of the loss-decrease run, and the fraction the loss must fall by.
EPOCHS_TO_FIT, MIN_DROP = 10, 0.3


@functools.lru_cache(maxsize=4)
def grader_digits(count: int, seed: int, tier: str) -> np.ndarray:
    """``count`` flattened test-pool digits (every class: the loop does not care)."""
    images = load_mnist(n_train=0, n_test=count, seed=seed, tier=tier).x_test
    return images.reshape(count, -1)


def fresh_model(nb, seed: int):
    checks.seed_everything(nb, seed)
    return nb.new("Autoencoder")


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= SAME_RESULT * max(abs(b), 1e-6)


def test_steps_match_full_batch_adam(nb):
    x = grader_digits(64, 3_131, nb.tier)
    reference = fresh_model(nb, 11)
    expected = checks.train_losses(
        nb, reference, x, x, steps=STEPS + 1, optimizer="adam", lr=ADAM_LR, loss="mse"
    )
    student = fresh_model(nb, 11)
    nb.call("train_autoencoder", student, x, STEPS, ADAM_LR, len(x), 0)
    after = checks.current_loss(nb, student, x, x, loss="mse")
    nb.record("loss_after_student_training", after)
    nb.record("loss_after_reference_training", expected[STEPS])
    assert not _close(after, expected[0]), (
        "train_autoencoder did not change the weights: call optimizer.step() after loss.backward()"
    )
    assert _close(after, expected[STEPS]), (
        f"after {STEPS} full-batch epochs of your train_autoencoder the loss is {after:.5f}, "
        f"but {STEPS} steps of Adam on the mean squared error give {expected[STEPS]:.5f}: "
        "check optimizer.zero_grad() in every step, Adam with lr, and nn.MSELoss between "
        "the output and the input"
    )


def test_loss_decreases(nb):
    x = grader_digits(256, 3_232, nb.tier)
    model = fresh_model(nb, 14)
    checks.expect_training_lowers_loss(
        nb,
        model,
        x,
        x,
        lambda: nb.call("train_autoencoder", model, x, EPOCHS_TO_FIT, 1e-3, 32, 5),
        loss="mse",
        min_relative_drop=MIN_DROP,
        what=f"reconstruction loss before and after {EPOCHS_TO_FIT} epochs of your "
        "train_autoencoder",
    )
