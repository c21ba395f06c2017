"""Hidden tests for the deep-regression lab: the student's train_model, step by step.

Every test builds fresh, seeded ``Regressor`` networks in the kernel and trains them on
data the grader draws here (a smooth non-linear function of 5 standard-normal features
plus noise). With ``batch_size`` equal to the number of rows, every epoch is one
full-batch Adam step, so the student's loop and the grader's reference loop
(``checks.train_losses``) must agree step for step from identical weights.
"""

from __future__ import annotations

import numpy as np

from grader import checks

N_ROWS, N_FEATURES = 96, 5
#: Full-batch Adam steps compared with the reference, and their learning rate.
STEPS, ADAM_LR = 12, 0.01
#: Relative agreement required between the student's loop and the reference loop.
SAME_RESULT = 1e-3
#: Mini-batch epochs of the loss-decrease run, and the fraction the loss must fall by.
EPOCHS_TO_FIT, MIN_DROP = 30, 0.3


def grader_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_ROWS, N_FEATURES))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] - 0.3 * x[:, 3] + 0.1 * rng.normal(size=N_ROWS)
    return x.astype(np.float32), ((y - y.mean()) / y.std()).astype(np.float32)


def fresh_model(nb, seed: int):
    checks.seed_everything(nb, seed)
    return nb.new("Regressor", N_FEATURES)


def epoch_losses(value: object, epochs: int) -> list[float]:
    assert isinstance(value, list | tuple), (
        f"train_model returned a {type(value).__name__}, expected a list of per-epoch losses"
    )
    assert len(value) == epochs, (
        f"train_model returned {len(value)} losses for {epochs} epochs: one mean loss per epoch"
    )
    losses = []
    for item in value:
        number = item.reshape(())[()] if isinstance(item, np.ndarray) and item.size == 1 else item
        assert type(number) in (int, float) or isinstance(number, np.floating), (
            f"train_model's losses must be numbers (use loss.item()), not {type(item).__name__}"
        )
        losses.append(float(number))
    return losses


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= SAME_RESULT * max(abs(b), 1e-6)


def test_steps_match_full_batch_adam(nb):
    x, y = grader_data(3_031)
    reference = fresh_model(nb, 11)
    expected = checks.train_losses(
        nb, reference, x, y, steps=STEPS + 1, optimizer="adam", lr=ADAM_LR, loss="mse"
    )
    student = fresh_model(nb, 11)
    nb.call("train_model", student, x, y, STEPS, ADAM_LR, N_ROWS, 0)
    after = checks.current_loss(nb, student, x, y, loss="mse")
    nb.record("loss_after_student_training", after)
    nb.record("loss_after_reference_training", expected[STEPS])
    assert not _close(after, expected[0]), (
        "train_model did not change the weights: call optimizer.step() after loss.backward()"
    )
    assert _close(after, expected[STEPS]), (
        f"after {STEPS} full-batch epochs of your train_model the loss is {after:.4f}, but "
        f"{STEPS} steps of Adam on the mean squared error give {expected[STEPS]:.4f}: check "
        "optimizer.zero_grad() in every step, nn.MSELoss, Adam with lr, and a (N, 1) target"
    )


def test_returns_mean_loss_per_epoch(nb):
    x, y = grader_data(3_032)
    reference = fresh_model(nb, 12)
    expected = checks.train_losses(
        nb, reference, x, y, steps=3, optimizer="adam", lr=ADAM_LR, loss="mse"
    )
    student = fresh_model(nb, 12)
    losses = epoch_losses(nb.call("train_model", student, x, y, 3, ADAM_LR, N_ROWS, 0), 3)
    nb.record("returned_losses", losses)
    assert _close(losses[0], expected[0]), (
        f"train_model's first epoch loss is {losses[0]:.4f}, but the mean squared error of the "
        f"untrained network is {expected[0]:.4f}: return the mean of the batch losses"
    )
    # Mini-batches of 20 (the last one 16): still exactly one number per epoch.
    student = fresh_model(nb, 13)
    epoch_losses(nb.call("train_model", student, x, y, 4, ADAM_LR, 20, 0), 4)


def test_loss_decreases(nb):
    x, y = grader_data(3_034)
    model = fresh_model(nb, 14)
    checks.expect_training_lowers_loss(
        nb,
        model,
        x,
        y,
        lambda: nb.call("train_model", model, x, y, EPOCHS_TO_FIT, 1e-3, 16, 5),
        loss="mse",
        min_relative_drop=MIN_DROP,
        what=f"loss before and after {EPOCHS_TO_FIT} epochs of your train_model",
    )
