"""Hidden tests for the MLP lab: compiling with SGD, and the notebook's training history.

``compile_model`` is called on fresh networks twice, once with the lab's values and once
with others (so a hard-coded 0.01 or a forgotten ``momentum`` shows); the kernel only
reports how the model was compiled, and every judgement is made here. The history has one
value per epoch the notebook really trained (its ``EPOCHS`` when it uses that name).
"""

from __future__ import annotations

import math

from grader import checks

#: Loss names that fit one-hot labels and a softmax output.
CATEGORICAL_LOSSES = {"categorical_crossentropy", "CategoricalCrossentropy"}
ACCURACY_METRICS = {"accuracy", "acc", "categorical_accuracy", "CategoricalAccuracy"}


def compile_settings(nb, model) -> dict:
    settings = nb.probe("keras.compile_settings", model=model)
    assert type(settings) is dict and settings.get("compiled") is True, (
        "compile_model must call model.compile(...) on the model it is given"
    )
    return settings


def expect_sgd(settings: dict, learning_rate: float, momentum: float, call: str) -> None:
    name = settings.get("optimizer")
    assert name == "SGD", f"{call} compiled with {name}, expected keras.optimizers.SGD"
    options = settings.get("optimizer_options") or {}
    rate, moment = options.get("learning_rate"), options.get("momentum")
    assert type(rate) is float and type(moment) is float, (
        f"could not read the learning rate and momentum of the SGD that {call} compiled with"
    )
    assert math.isclose(rate, learning_rate, rel_tol=1e-5), (
        f"{call} used learning rate {rate:.6g}, expected {learning_rate:g}: "
        "pass the function's learning_rate to SGD"
    )
    assert math.isclose(moment, momentum, rel_tol=1e-5), (
        f"{call} used momentum {moment:.6g}, expected {momentum:g}: pass the function's "
        "momentum to SGD (plain SGD has momentum 0)"
    )


def test_compile_model(nb):
    lab = compile_settings(nb, nb.call("compile_model", nb.call("build_mlp")))
    expect_sgd(lab, 0.01, 0.9, "compile_model(model)")
    loss = lab.get("loss") or {}
    loss_name = loss.get("class") or loss.get("name")
    assert loss_name in CATEGORICAL_LOSSES or loss.get("name") in CATEGORICAL_LOSSES, (
        f"the loss is {loss.get('name')!r}: the labels are one-hot and the output a softmax, "
        "so use categorical cross-entropy"
    )
    assert not (loss.get("options") or {}).get("from_logits"), (
        "the loss has from_logits=True, but the network's softmax already gives probabilities"
    )
    metrics = set(lab.get("metrics") or [])
    assert metrics & ACCURACY_METRICS, "compile with metrics=['accuracy'] to track accuracy"
    other = compile_settings(
        nb, nb.call("compile_model", nb.call("build_mlp"), learning_rate=0.05, momentum=0.5)
    )
    expect_sgd(other, 0.05, 0.5, "compile_model(model, learning_rate=0.05, momentum=0.5)")


def test_training_history(nb):
    curves = checks.fit_history(nb, ("loss", "accuracy", "val_loss", "val_accuracy"))
    loss = curves["loss"]
    nb.record("loss_per_epoch", loss)
    nb.record("final_training_accuracy", curves["accuracy"][-1])
    checks.expect_loss_decrease(loss, k=1, what="training loss in history.history")
    assert nb.exists("model"), "the notebook has no trained `model`"
    trained = compile_settings(nb, nb.ref("model"))
    assert trained.get("optimizer") == "SGD", (
        f"the notebook's `model` was trained with {trained.get('optimizer')}, not SGD"
    )
