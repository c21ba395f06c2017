"""Hidden test for the image-classification lab: stage (c), the training run.

The kernel reports how ``model`` was compiled (probe ``keras.compile_settings``) and the
per-epoch numbers ``fit`` kept; the judgement is made here.
"""

from __future__ import annotations

import math

from grader import checks
from grader.checks.classification import numeric_array


def test_training_run(nb):
    assert nb.exists("model"), "the notebook has no `model`"
    settings = nb.probe("keras.compile_settings", model=nb.ref("model"))
    assert type(settings) is dict and settings.get("compiled") is True, (
        "`model` was never compiled: compile it with Adam before fit"
    )
    assert settings.get("optimizer") == "Adam", (
        f"`model` was compiled with {settings.get('optimizer')}, expected Adam"
    )
    rate = (settings.get("optimizer_options") or {}).get("learning_rate")
    expected_rate = nb.get("LEARNING_RATE")
    assert type(rate) is float and type(expected_rate) in (int, float), (
        "could not read Adam's learning rate"
    )
    assert math.isclose(rate, expected_rate, rel_tol=1e-5), (
        f"Adam's learning rate is {rate:g}, expected LEARNING_RATE = {expected_rate:g}"
    )
    assert nb.exists("history") and nb.exists("history.history"), (
        "the notebook has no `history`: keep what model.fit returns"
    )
    curves = nb.get("history.history")
    assert type(curves) is dict, "`history` must be what model.fit returned"
    epochs = nb.get("EPOCHS")
    for key in ("loss", "val_loss"):
        assert key in curves, f"history.history has no {key!r}: train with validation_split"
        values = numeric_array(curves[key], f"history.history[{key!r}]").reshape(-1)
        assert len(values) == epochs, (
            f"history.history[{key!r}] has {len(values)} values, one per epoch of {epochs}"
        )
    loss = numeric_array(curves["loss"], "the training loss").reshape(-1).tolist()
    nb.record("loss_per_epoch", loss)
    checks.expect_loss_decrease(loss, k=1, what="training loss in history.history")
