"""Hidden tests for the transfer lab's training: what moves, and what must not.

One head run and one fine-tuning run on the grader's own task (the digits 9, 6 and 8,
relabelled 0-2, ten training images each) serve every test here; they are made once and
kept for the module. Between the calls the grader takes snapshots of every weight (a
digest of its bytes) and compares them here:

* head training: the base's weights stay bit-identical, every head weight changes, the
  loss falls and the head beats chance on held-out images;
* fine-tuning: exactly conv2 is unfrozen (56,099 trainable, 160 non-trainable for 3
  classes), conv1 stays bit-identical, conv2 changes, and the compiled optimizer updates
  every trainable weight (it does not after `trainable` changes without a new compile).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np

from grader import checks
from grader.checks import freezing
from grader.datasets import load_mnist

BASE_PATH = "data/base.keras"
SHIPPED = Path(__file__).resolve().parents[2] / "data" / "base.json"
DIGITS, PER_CLASS, DATA_SEED = (9, 6, 8), 10, 31_337
HEAD = {"epochs": 15, "batch_size": 8, "learning_rate": 1e-3}
FINE_TUNE = {"epochs": 3, "batch_size": 8, "learning_rate": 1e-4}
#: The head alone on 3 held-out classes (chance 1/3): the reference reaches 0.89-0.95 over
#: 16 seeds offline (docs/calibration.md); 0.70 leaves room for correct variants. Full: a guess.
HEAD_PASS_MARK = {"offline": 0.70, "full": 0.55}
#: After fine-tuning, 3 classes: head 51,459 + conv2 4,640 trainable, conv1 160 frozen.
FINE_TUNED_TRAINABLE, FINE_TUNED_FROZEN = 56_099, 160
FINE_TUNE_NEAR_MISSES = {
    56_259: "the whole base is trainable: unfreeze conv2 only and keep conv1 frozen",
    51_459: "nothing was unfrozen: a layer inside a frozen model cannot train, so set "
    "base.trainable = True first, then freeze every base layer except conv2",
}

IN_BASE = freezing.path_contains("conv1/", "conv2/")
IN_CONV1, IN_CONV2 = freezing.path_contains("conv1/"), freezing.path_contains("conv2/")


def in_head(path: str) -> bool:
    return not IN_BASE(path)


#: The two runs, made by the first test that needs them: each test training its own model
#: would add about 3 s of grading. A fresh module (and so a fresh dict) serves every grading.
_RUNS: dict[str, Any] = {}


@functools.lru_cache(maxsize=2)
def grader_task(tier: str):
    """(x, labels) to train on and held-out (x, labels): the grader's 3-class task."""
    data = load_mnist(n_train=1200, n_test=600, seed=DATA_SEED, tier=tier)

    def pick(x, y, per_class=None):
        index = [np.flatnonzero(y == d)[:per_class] for d in DIGITS]
        labels = [np.full(len(i), k) for k, i in enumerate(index)]
        return x[np.concatenate(index)][..., None], np.concatenate(labels)

    return pick(data.x_train, data.y_train, PER_CLASS), pick(data.x_test, data.y_test)


def history_losses(history: object, epochs: int) -> list[float]:
    assert isinstance(history, dict) and "loss" in history, (
        "train_head and fine_tune must return the fit's history dictionary (history.history)"
    )
    try:
        losses = [float(v) for v in history["loss"]]
    except (TypeError, ValueError):
        raise AssertionError("the history's losses must be a list of numbers") from None
    assert len(losses) == epochs, f"the history has {len(losses)} losses for {epochs} epochs"
    return losses


def head_run(nb) -> dict[str, Any]:
    """Fresh base -> 3-class model -> snapshot -> train_head -> snapshot, accuracy."""
    if "head" not in _RUNS:
        (x, y), (x_held, y_held) = grader_task(nb.tier)
        base = nb.probe("keras.load_model", path=BASE_PATH)
        shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))["weights"]
        loaded = freezing.weight_snapshot(nb, base)
        assert shipped and all(
            any(p.endswith(key) and s.digest == digest for p, s in loaded.items())
            for key, digest in shipped.items()
        ), "data/base.keras in the notebook's folder is not the shipped base: leave it unchanged"
        model = nb.call("build_transfer_model", base, len(DIGITS))
        before = freezing.weight_snapshot(nb, model)
        history = nb.call("train_head", model, x, y, **HEAD)
        after = freezing.weight_snapshot(nb, model)
        predicted = checks.predict_classes(nb, model, x_held)
        _RUNS["head"] = {
            "model": model,
            "before": before,
            "after": after,
            "history": history,
            "accuracy": checks.accuracy_of(predicted, y_held),
        }
    return _RUNS["head"]


def fine_tune_run(nb) -> dict[str, Any]:
    """The head run's model -> fine_tune -> snapshot (the model is left as fine_tune left it)."""
    if "fine_tune" not in _RUNS:
        run = head_run(nb)
        (x, y), _ = grader_task(nb.tier)
        history = nb.call("fine_tune", run["model"], x, y, **FINE_TUNE)
        _RUNS["fine_tune"] = {
            "history": history,
            "after": freezing.weight_snapshot(nb, run["model"]),
        }
    return _RUNS["fine_tune"]


def test_base_unchanged_by_head_training(nb):
    run = head_run(nb)
    freezing.expect_unchanged(
        run["before"],
        run["after"],
        IN_BASE,
        what="the frozen base",
        hint="set base.trainable = False before compiling and training the head",
    )


def test_head_learns(nb):
    run = head_run(nb)
    freezing.expect_changed(run["before"], run["after"], in_head, what="the head")
    losses = history_losses(run["history"], HEAD["epochs"])
    checks.expect_loss_decrease(losses, k=3, what="head's training loss")
    value = nb.record("head_accuracy", run["accuracy"])
    checks.expect_accuracy_at_least(
        value, HEAD_PASS_MARK[nb.tier], what="accuracy of the trained head on 3 new classes"
    )


def test_fine_tune_unfreezes_only_conv2(nb):
    run, fine = head_run(nb), fine_tune_run(nb)
    counts = checks.param_counts(nb, run["model"])
    if counts.trainable in FINE_TUNE_NEAR_MISSES:
        raise AssertionError(
            f"{counts.trainable:,} trainable parameters after fine_tune, expected "
            f"{FINE_TUNED_TRAINABLE:,} ({FINE_TUNE_NEAR_MISSES[counts.trainable]})"
        )
    checks.expect_trainable_counts(
        counts, trainable=FINE_TUNED_TRAINABLE, non_trainable=FINE_TUNED_FROZEN
    )
    freezing.expect_unchanged(
        run["after"],
        fine["after"],
        IN_CONV1,
        what="conv1",
        hint="fine-tuning unfreezes conv2 only; conv1 stays frozen",
    )


def test_fine_tune_recompiles_and_trains_conv2(nb):
    run, fine = head_run(nb), fine_tune_run(nb)
    history_losses(fine["history"], FINE_TUNE["epochs"])
    coverage = freezing.optimizer_coverage(nb, run["model"])
    freezing.expect_optimizer_covers(coverage, what="the fine-tuned model")
    freezing.expect_changed(
        run["after"],
        fine["after"],
        IN_CONV2,
        what="conv2 during fine-tuning",
        hint="make conv2 trainable, then compile the model again before fit",
    )
