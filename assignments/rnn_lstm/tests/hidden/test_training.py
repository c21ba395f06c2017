"""Hidden tests for the RNN/LSTM lab: the student's train_model, step by step.

Each test builds fresh, seeded ``Forecaster`` networks in the kernel and trains them on
windows the grader cuts itself from a noisy sine wave it draws here (so a wrong
``make_windows`` costs marks only once). With ``batch_size`` equal to the number of
windows every epoch is one full-batch Adam step, and the student's loop must agree with
the grader's reference loop (``checks.train_losses``) from identical weights.
"""

from __future__ import annotations

import numpy as np

from grader import checks

N_WINDOWS, WINDOW = 64, 12
#: Full-batch Adam steps compared with the reference, and their learning rate.
STEPS, ADAM_LR = 10, 0.01
N_COPIES = 8
SAME_RESULT = 1e-3
#: Mini-batch epochs of the loss-decrease run, and the fraction the loss must fall by.
EPOCHS_TO_FIT, MIN_DROP = 15, 0.5


def grader_windows(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 40.0, 1_000)[: N_WINDOWS + WINDOW] + rng.uniform(0, 2 * np.pi)
    series = np.sin(t) + 0.1 * rng.normal(size=t.size)
    x = np.stack([series[i : i + WINDOW] for i in range(N_WINDOWS)])[:, :, None]
    return x.astype(np.float32), series[WINDOW:, None].astype(np.float32)


def fresh_model(nb, seed: int, cell: str = "rnn"):
    checks.seed_everything(nb, seed)
    return nb.new("Forecaster", cell)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= SAME_RESULT * max(abs(b), 1e-6)


def test_steps_match_full_batch_adam(nb):
    # Copies of one window: the order train_model shuffles them into cannot matter, even for
    # a network with a wrong layout (graded elsewhere), so only the steps themselves count.
    x, y = grader_windows(5_051)
    x, y = np.repeat(x[:1], N_COPIES, axis=0), np.repeat(y[:1], N_COPIES, axis=0)
    reference = fresh_model(nb, 31)
    expected = checks.train_losses(
        nb, reference, x, y, steps=STEPS + 1, optimizer="adam", lr=ADAM_LR, loss="mse"
    )
    student = fresh_model(nb, 31)
    returned = nb.call("train_model", student, x, y, STEPS, ADAM_LR, N_COPIES, 0)
    after = checks.current_loss(nb, student, x, y, loss="mse")
    nb.record("loss_after_student_training", after)
    nb.record("loss_after_reference_training", expected[STEPS])
    assert isinstance(returned, list | tuple) and len(returned) == STEPS, (
        f"train_model must return a list of {STEPS} losses for {STEPS} epochs, one per epoch"
    )
    assert not _close(after, expected[0]), (
        "train_model did not change the weights: call optimizer.step() after loss.backward()"
    )
    assert _close(after, expected[STEPS]), (
        f"after {STEPS} full-batch epochs of your train_model the loss is {after:.4f}, but "
        f"{STEPS} steps of Adam on the mean squared error give {expected[STEPS]:.4f}: check "
        "optimizer.zero_grad() in every step, nn.MSELoss, Adam with lr, and a (N, 1) target"
    )


def test_loss_decreases(nb):
    x, y = grader_windows(5_052)
    model = fresh_model(nb, 32, "lstm")
    checks.expect_training_lowers_loss(
        nb,
        model,
        x,
        y,
        lambda: nb.call("train_model", model, x, y, EPOCHS_TO_FIT, 0.01, 16, 5),
        loss="mse",
        min_relative_drop=MIN_DROP,
        what=f"loss before and after {EPOCHS_TO_FIT} epochs of your train_model",
    )
