"""Keras measurements for freezing and fine-tuning, and TensorFlow value kinds.

Transfer learning goes wrong in ways that outputs alone do not show: a layer
meant to be frozen moves a little, or a layer unfrozen for fine-tuning never
moves because the model was not compiled again (Keras builds its optimizer and
its training function for the weights that were trainable at the time). So the
probes here report, for every weight, a digest of its exact bytes and whether it
is trainable now, and which trainable weights the compiled optimizer tracks.
Whether anything changed is decided in the grader, by comparing two snapshots.

``keras.tf_values`` belongs to the TensorFlow tensor exercises: it reports what
kind of object a function returned (an eager tensor, a ``tf.Variable``, a NumPy
array) with its dtype, which the wire format's conversion to arrays erases.
"""

from __future__ import annotations

import hashlib
import sys
from typing import Any

import keras
import numpy as np

from grader.probes.library import probe


def array_digest(array: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes: equal digests mean bit-identical arrays.

    ``assignments/transfer/pretrain.py`` computes the shipped base's digests with this
    same function, so the grader can tell the shipped weights from any others.
    """
    contiguous = np.ascontiguousarray(array)
    header = f"{contiguous.dtype.str}{contiguous.shape}".encode()
    return hashlib.sha256(header + contiguous.tobytes()).hexdigest()


def _model(model: Any) -> keras.Layer:
    if not isinstance(model, keras.Layer):
        raise TypeError(f"expected a Keras model or layer, got a {type(model).__name__}")
    return model


def _path(variable: Any) -> str:
    return str(getattr(variable, "path", None) or getattr(variable, "name", "?"))


@probe("keras.weight_digests")
def weight_digests(model: Any) -> list[dict[str, Any]]:
    """Every weight of the model: path, shape, trainable now, and a digest of its bytes.

    "Trainable" is membership in ``model.trainable_weights``: Keras 3 freezes a layer
    by its ``trainable`` flag (and its parents'), not by a flag on the variable.
    """
    model = _model(model)
    trainable = {id(v) for v in model.trainable_weights}
    rows = []
    for variable in model.weights:
        value = np.asarray(keras.ops.convert_to_numpy(variable))
        rows.append(
            {
                "path": _path(variable),
                "shape": [int(d) for d in value.shape],
                "trainable": id(variable) in trainable,
                "digest": array_digest(value),
            }
        )
    return rows


@probe("keras.optimizer_coverage")
def optimizer_coverage(model: Any) -> dict[str, Any]:
    """Which of the model's trainable weights its compiled optimizer updates.

    Keras 3 builds the optimizer on the first ``fit`` with the weights trainable at
    that moment and caches the training function; weights unfrozen later are left
    out until ``compile`` runs again. ``tracked`` is None when the optimizer is
    missing or not built yet.
    """
    model = _model(model)
    optimizer = getattr(model, "optimizer", None)
    tracked_ids: set[int] | None = None
    if optimizer is not None and getattr(optimizer, "built", False):
        variables = getattr(optimizer, "_trainable_variables", None)
        if variables is not None:
            tracked_ids = {id(v) for v in variables}
    return {
        "compiled": bool(getattr(model, "compiled", False)),
        "optimizer": None if optimizer is None else type(optimizer).__name__,
        "trainable": [
            {
                "path": _path(v),
                "tracked": None if tracked_ids is None else id(v) in tracked_ids,
            }
            for v in model.trainable_weights
        ],
    }


def _describe_value(value: Any) -> dict[str, Any]:
    tf = sys.modules.get("tensorflow")
    kind = type(value).__name__
    if tf is not None and isinstance(value, tf.Variable):
        kind = "tf.Variable"
    elif tf is not None and isinstance(value, tf.Tensor):
        kind = "tf.Tensor"
    elif type(value) is np.ndarray:
        kind = "numpy.ndarray"
    elif isinstance(value, np.generic):
        kind = "numpy.scalar"
    dtype = getattr(value, "dtype", None)
    row: dict[str, Any] = {
        "kind": kind,
        "dtype": None if dtype is None else str(getattr(dtype, "name", dtype)),
        "value": None,
    }
    try:
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    except (TypeError, ValueError):
        return row
    if array.dtype.kind in "biufc":
        row["value"] = array
    return row


@probe("keras.tf_values")
def tf_values(value: Any) -> dict[str, Any] | list[dict[str, Any]]:
    """The kind (``tf.Tensor``, ``tf.Variable``, ``numpy.ndarray``...), dtype and value of
    an object, or of each item of a tuple or list (one level deep)."""
    if type(value) in (tuple, list):
        return [_describe_value(item) for item in value]
    return _describe_value(value)


def _tf_functions() -> dict[str, Any]:
    import tensorflow as tf

    return {
        "sin": tf.sin,
        "exp": tf.exp,
        "tanh": tf.tanh,
        "cubic": lambda x: 3 * x**3 + 4 * x**2,
        "quartic": lambda x: x**4 / 12,
    }


@probe("keras.tf_function")
def tf_function(name: str) -> Any:
    """A function of one tensor, by name: ``sin``, ``exp``, ``tanh`` (TensorFlow's), ``cubic``
    (3x^3 + 4x^2) or ``quartic`` (x^4 / 12). It stays in the kernel (a reference)."""
    functions = _tf_functions()
    if name not in functions:
        raise LookupError(f"no function {name!r}; known: {sorted(functions)}")
    return functions[name]


@probe("keras.tf_variable")
def tf_variable(value: Any) -> Any:
    """A new ``tf.Variable`` holding ``value`` (its dtype kept). It stays in the kernel."""
    import tensorflow as tf

    from grader.probes.kernel import keep  # a variable would otherwise come back as an array

    return keep(tf.Variable(value))


@probe("keras.load_model")
def load_model(path: str) -> Any:
    """``keras.models.load_model(path)``, relative to the notebook's folder. It stays in the
    kernel (a reference)."""
    return keras.models.load_model(path)
