"""The probe names the checks and docs rely on are registered under their groups."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

from grader.probes import library

EXPECTED = {
    "torch": {
        "torch.param_counts", "torch.layer_params", "torch.output_shapes", "torch.layer_shapes",
        "torch.predict_classes", "torch.make_loader", "torch.make_optimizer", "torch.make_loss",
        "torch.train_losses", "torch.devices", "torch.observe_devices", "torch.jacobians",
        "torch.make_device", "torch.device_choice", "torch.recording_loss", "torch.loss_devices",
        "torch.outputs", "torch.step_effects", "torch.optimizer_params", "torch.loss_kind",
        "torch.loss_targets",
    },
    "numeric": {"numeric.gradient_check"},
    "env": {
        "env.seed_all", "env.rng_fingerprint", "env.framework_of", "env.accelerators",
        "env.versions",
    },
}  # fmt: skip


@pytest.mark.parametrize("group", sorted(EXPECTED))
def test_group_registers_its_probes(group):
    if group == "torch":
        pytest.importorskip("torch")
    for module in library.GROUPS[group]:
        importlib.import_module(module)
    registered = {name for name in library._PROBES if name.startswith(f"{group}.")}
    assert EXPECTED[group] <= registered, EXPECTED[group] - registered


def test_keras_probe_names_are_declared_in_source():
    """Importing TensorFlow here would cost seconds; the keras kernel tests run them all."""
    text = "".join(
        Path(importlib.util.find_spec(module).origin).read_text(encoding="utf-8")
        for module in library.GROUPS["keras"]
    )
    names = ["param_counts", "layer_params", "output_shapes", "layer_shapes", "predict_classes"]
    names += ["compile_settings", "figure_curves", "weight_digests", "optimizer_coverage"]
    names += ["tf_values", "tf_function", "tf_variable", "load_model"]
    for name in [*names, "train_losses"]:
        assert f'@probe("keras.{name}")' in text, name
