"""Keras 3 measurements taken inside the kernel.

Keras 3 removed ``layer.output_shape``, and subclassed models have no static
graph, so shapes come from a real forward pass: each top-level layer's ``call``
is wrapped for the duration of one call of the model, which works the same for
Sequential, functional and subclassed models. As everywhere in the probe
library, these functions return raw measurements and never a verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import keras
import numpy as np

from grader.probes.library import probe

LOSSES: dict[str, Callable[[], Any]] = {
    "cross_entropy": lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    "cross_entropy_probs": lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=False),
    "mse": keras.losses.MeanSquaredError,
    "bce": lambda: keras.losses.BinaryCrossentropy(from_logits=False),
    "bce_logits": lambda: keras.losses.BinaryCrossentropy(from_logits=True),
}
OPTIMIZERS: dict[str, Callable[..., Any]] = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "rmsprop": keras.optimizers.RMSprop,
    "adadelta": keras.optimizers.Adadelta,
}
INDEX_TARGET_LOSSES = frozenset({"cross_entropy", "cross_entropy_probs"})


def _layer(model: Any) -> keras.Layer:
    if not isinstance(model, keras.Layer):
        raise TypeError(f"expected a Keras model or layer, got a {type(model).__name__}")
    return model


def _size(weights: Sequence[Any]) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _shape_of(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_shape_of(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _shape_of(v) for k, v in value.items()}
    shape = getattr(value, "shape", None)
    if shape is None:
        return None
    return [None if d is None else int(d) for d in shape]


def _main_output(value: Any) -> np.ndarray:
    if isinstance(value, (tuple, list)) and value:
        return _main_output(value[0])
    return np.asarray(keras.ops.convert_to_numpy(value))


def _ensure_built(model: keras.Layer, input_shape: Sequence[int] | None) -> None:
    """Build an unbuilt model by calling it, the only way that works for every model kind."""
    if not model.built:
        if input_shape is None:
            raise ValueError("the model is not built yet: pass an input_shape to build it")
        model(np.zeros(tuple(int(d) for d in input_shape), dtype="float32"), training=False)


@probe("keras.param_counts")
def param_counts(model: Any, input_shape: Sequence[int] | None = None) -> dict[str, int]:
    """``count_params()`` and the sizes of the trainable and non-trainable weights."""
    model = _layer(model)
    _ensure_built(model, input_shape)
    return {
        "total": int(model.count_params()),
        "trainable": _size(model.trainable_weights),
        "non_trainable": _size(model.non_trainable_weights),
    }


@probe("keras.layer_params")
def layer_params(model: Any, input_shape: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Counts per top-level layer (a nested model counts as one layer, as in ``summary()``)."""
    model = _layer(model)
    _ensure_built(model, input_shape)
    return [
        {
            "name": layer.name,
            "kind": type(layer).__name__,
            "params": _size(layer.weights),
            "trainable": _size(layer.trainable_weights),
        }
        for layer in model.layers
    ]


@probe("keras.output_shapes")
def output_shapes(
    model: Any, input_shapes: Sequence[Sequence[int]], dtype: str = "float32"
) -> list[Any]:
    """The output shape for a zero input of each given shape (inference mode)."""
    model = _layer(model)
    return [
        _shape_of(model(np.zeros(tuple(int(d) for d in shape), dtype=dtype), training=False))
        for shape in input_shapes
    ]


@contextmanager
def _recording_calls(layers: Sequence[keras.Layer], rows: list[dict[str, Any]]) -> Iterator[None]:
    """Wrap each layer's ``call`` on the instance; the class's method returns afterwards.

    ``object.__setattr__`` bypasses Keras's attribute tracking, which would
    otherwise try to track the wrapper as a new sub-object.
    """
    missing = object()
    saved = [(layer, layer.__dict__.get("call", missing)) for layer in layers]
    for layer in layers:
        original = layer.call

        def wrapped(*args: Any, _original=original, _layer=layer, **kwargs: Any) -> Any:
            output = _original(*args, **kwargs)
            rows.append(
                {
                    "name": _layer.name,
                    "kind": type(_layer).__name__,
                    "output_shape": _shape_of(output),
                    "params": _size(_layer.weights),
                    "trainable": _size(_layer.trainable_weights),
                }
            )
            return output

        object.__setattr__(layer, "call", wrapped)
    try:
        yield
    finally:
        for layer, previous in saved:
            if previous is missing:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", previous)


@probe("keras.layer_shapes")
def layer_shapes(model: Any, input_shape: Sequence[int], dtype: str = "float32") -> dict[str, Any]:
    """Output shape of every top-level layer, in call order, from one forward pass."""
    model = _layer(model)
    x = np.zeros(tuple(int(d) for d in input_shape), dtype=dtype)
    if not model.built:
        model(x, training=False)  # the first call traces symbolically; record the second
    rows: list[dict[str, Any]] = []
    with _recording_calls(list(getattr(model, "layers", [])), rows):
        output = model(x, training=False)
    return {"layers": rows, "output_shape": _shape_of(output)}


@probe("keras.predict_classes")
def predict_classes(
    model: Any, x: Any, batch_size: int = 256, binary_threshold: float | None = None
) -> np.ndarray:
    """Predicted class per example (argmax, or ``output > threshold`` for one output column)."""
    model = _layer(model)
    inputs = np.asarray(x)
    predictions = []
    for start in range(0, len(inputs), batch_size):
        out = _main_output(model(inputs[start : start + batch_size], training=False))
        out = out.reshape(out.shape[0], -1)
        if out.shape[1] == 1:
            if binary_threshold is None:
                raise ValueError(
                    "the model has one output column: pass binary_threshold "
                    "(0.0 for logits, 0.5 for probabilities)"
                )
            predictions.append((out[:, 0] > binary_threshold).astype(np.int64))
        else:
            predictions.append(out.argmax(axis=1).astype(np.int64))
    return np.concatenate(predictions) if predictions else np.zeros(0, dtype=np.int64)


@probe("keras.train_losses")
def train_losses(
    model: Any,
    x: Any,
    y: Any,
    steps: int = 20,
    optimizer: str = "sgd",
    lr: float = 0.01,
    loss: str = "cross_entropy",
    batch_size: int | None = None,
    seed: int = 0,
    restore_weights: bool = False,
    **optimizer_options: Any,
) -> list[float]:
    """Seed everything, train ``steps`` steps with our own GradientTape loop, return the losses.

    The model's own ``compile()`` state (optimizer, loss) is left untouched.
    Needs the TensorFlow backend.
    """
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"keras.train_losses needs the TensorFlow backend, not {keras.backend.backend()}"
        )
    model = _layer(model)
    if loss not in LOSSES or optimizer not in OPTIMIZERS:
        raise ValueError(f"known losses {sorted(LOSSES)}, optimizers {sorted(OPTIMIZERS)}")
    keras.utils.set_random_seed(seed)
    inputs = np.asarray(x, dtype="float32")
    targets = np.asarray(y, dtype="int64" if loss in INDEX_TARGET_LOSSES else "float32")
    _ensure_built(model, inputs[:1].shape)
    loss_fn = LOSSES[loss]()
    opt = OPTIMIZERS[optimizer](learning_rate=lr, **optimizer_options)
    saved = model.get_weights() if restore_weights else None
    size = len(inputs) if batch_size is None else batch_size
    starts = list(range(0, len(inputs), size))
    losses: list[float] = []
    try:
        for step in range(steps):
            start = starts[step % len(starts)]
            xb, yb = inputs[start : start + size], targets[start : start + size]
            with tf.GradientTape() as tape:
                out = model(xb, training=True)
                if loss not in INDEX_TARGET_LOSSES and yb.size == int(np.prod(out.shape)):
                    yb = yb.reshape(tuple(out.shape))
                value = loss_fn(yb, out)
            variables = model.trainable_variables
            grads = tape.gradient(value, variables)
            pairs = [(g, v) for g, v in zip(grads, variables, strict=True) if g is not None]
            if pairs:  # a frozen model has nothing to update: its curve stays flat
                opt.apply_gradients(pairs)
            losses.append(float(value))
    finally:
        if saved is not None:
            model.set_weights(saved)
    return losses
