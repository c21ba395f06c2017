"""Hidden test for the image-classification lab: stage (c), the training run.

The kernel reports how ``model`` was compiled (probe ``keras.compile_settings``) and the
per-epoch numbers ``fit`` kept; the judgement is made here. A notebook that hard-codes its
learning rate or epochs is held to what it really did (the lab's learning rate, 0.001, and
its own history's length).
"""

from __future__ import annotations

import math

from grader import checks


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
    expected_rate = nb.setting("LEARNING_RATE")
    assert type(rate) is float and type(expected_rate) in (int, float), (
        "could not read Adam's learning rate"
    )
    named = "LEARNING_RATE = " if nb.uses("LEARNING_RATE") else "the lab's "
    assert math.isclose(rate, expected_rate, rel_tol=1e-5), (
        f"Adam's learning rate is {rate:g}, expected {named}{expected_rate:g}"
    )
    curves = checks.fit_history(nb, ("loss", "val_loss"))
    nb.record("loss_per_epoch", curves["loss"])
    checks.expect_loss_decrease(curves["loss"], k=1, what="training loss in history.history")
