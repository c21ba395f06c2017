"""The check library: measurements asked of the kernel, judgements made in the grader.

Assignment tests call these with the ``nb`` fixture. A measuring function
(``param_counts``, ``train_losses``...) runs a probe inside the kernel,
records the values that matter with ``nb.record`` and returns plain values; an
``expect_*`` function compares them with what the test expects and raises
``AssertionError`` with a message written for the student. See docs/checks.md.
"""

from grader.checks.devices import (
    ModelDevices,
    StepDevices,
    expect_batches_on,
    expect_batches_on_model_device,
    expect_cuda_memory_used,
    expect_model_on,
    expect_step_ran,
    model_devices,
    observe_training_step,
)
from grader.checks.gradients import (
    GradientCheck,
    JacobianCheck,
    autograd_check,
    expect_analytic_backward,
    expect_gradients_match,
    expect_jacobians_match,
    gradient_check,
    relative_error,
)
from grader.checks.history import fit_history
from grader.checks.models import (
    LayerParams,
    LayerShape,
    ParamCounts,
    expect_layer_param_counts,
    expect_layer_shapes,
    expect_output_shapes,
    expect_param_count,
    expect_trainable_counts,
    layer_param_counts,
    layer_shapes,
    output_shapes,
    param_counts,
)
from grader.checks.outputs import are_probabilities, expect_logits, loop_model, model_outputs
from grader.checks.predictions import (
    accuracy,
    accuracy_of,
    expect_accuracy_at_least,
    expect_reported_accuracy,
    expect_same_preparation,
    predict_classes,
    prepared_inputs,
)
from grader.checks.seeding import (
    expect_repeatable,
    expect_same_draws,
    rng_fingerprint,
    seed_everything,
    seeded_fingerprints,
)
from grader.checks.training import (
    current_loss,
    epoch_history,
    expect_loss_decrease,
    expect_training_lowers_loss,
    make_loader,
    make_loss_fn,
    make_optimizer,
    train_losses,
)

__all__ = [
    "GradientCheck",
    "JacobianCheck",
    "LayerParams",
    "LayerShape",
    "ModelDevices",
    "ParamCounts",
    "StepDevices",
    "accuracy",
    "accuracy_of",
    "autograd_check",
    "are_probabilities",
    "expect_accuracy_at_least",
    "expect_logits",
    "loop_model",
    "model_outputs",
    "expect_analytic_backward",
    "expect_batches_on",
    "expect_batches_on_model_device",
    "expect_cuda_memory_used",
    "expect_gradients_match",
    "expect_jacobians_match",
    "expect_layer_param_counts",
    "expect_layer_shapes",
    "epoch_history",
    "expect_loss_decrease",
    "expect_training_lowers_loss",
    "expect_model_on",
    "expect_output_shapes",
    "expect_param_count",
    "expect_repeatable",
    "expect_reported_accuracy",
    "expect_same_preparation",
    "expect_same_draws",
    "expect_step_ran",
    "expect_trainable_counts",
    "fit_history",
    "prepared_inputs",
    "gradient_check",
    "layer_param_counts",
    "layer_shapes",
    "make_loader",
    "make_loss_fn",
    "make_optimizer",
    "model_devices",
    "observe_training_step",
    "output_shapes",
    "param_counts",
    "predict_classes",
    "relative_error",
    "rng_fingerprint",
    "seed_everything",
    "seeded_fingerprints",
    "current_loss",
    "train_losses",
]
