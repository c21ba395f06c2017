"""Accuracy on held-out data: the kernel predicts, the grader counts.

Only the inputs go into the kernel; the labels stay in the grader's process,
so no student code can read them or fake the comparison.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from grader.checks._common import KernelObject, as_ref, fmt_number, framework_of
from grader.probes.wire import Ref
from grader.testing.fixture import Notebook

#: Inputs sent per request; a bigger array is split (base64 in JSON grows it by a third).
MAX_REQUEST_BYTES = 16 * 1024 * 1024
#: The input-preparation hook of the image and tabular labs (issue 16): a notebook that
#: standardises its inputs its own way defines ``preprocess(x)``, and the grader passes
#: its held-out inputs, prepared as the lab states, through it before the model sees them.
PREPROCESS = "preprocess"


def prepared_inputs(nb: Notebook, x: Any) -> Any:
    """``x`` as the notebook's model takes it: passed through the notebook's own
    ``preprocess(x)`` when it defines one (the result stays in the kernel), else unchanged.

    For tests that call the model themselves on inputs prepared as the lab states.
    """
    if nb.exists(PREPROCESS):
        return nb.call_keep(PREPROCESS, x)
    return x


def predict_classes(
    nb: Notebook,
    model: KernelObject,
    x: np.ndarray | KernelObject,
    *,
    batch_size: int = 256,
    binary_threshold: float | None = None,
    framework: str | None = None,
    timeout: float | None = None,
    preprocess: bool = False,
) -> np.ndarray:
    """Predicted class index per example (argmax of the outputs, eval mode, batched).

    ``x`` is an array sent from the grader, or a notebook variable / kernel object
    holding the inputs. Single-output models need ``binary_threshold``
    (0.0 for logits, 0.5 for probabilities). With ``preprocess``, inputs go through the
    notebook's own ``preprocess(x)`` first, when it defines one (:func:`prepared_inputs`).
    """
    ref = as_ref(nb, model)
    fw = framework_of(nb, ref, framework)
    if isinstance(x, np.ndarray):
        # Large held-out sets go over in chunks: each request is one JSON message.
        rows = max(1, MAX_REQUEST_BYTES // max(1, x[:1].nbytes))
        chunks: list[np.ndarray | Ref] = [x[i : i + rows] for i in range(0, len(x), rows)] or [x]
    else:
        chunks = [as_ref(nb, x)]
    parts = []
    hook = preprocess and nb.exists(PREPROCESS)
    for chunk in chunks:
        if hook:
            chunk = nb.call_keep(PREPROCESS, chunk)
        raw = nb.probe(
            f"{fw}.predict_classes",
            timeout=timeout,
            model=ref,
            x=chunk,
            batch_size=int(batch_size),
            binary_threshold=binary_threshold,
        )
        if type(raw) is not np.ndarray or raw.dtype.kind not in "iu" or raw.ndim != 1:
            raise AssertionError("the model's predictions could not be read as class indices")
        parts.append(raw.astype(np.int64))
    return np.concatenate(parts)


def accuracy_of(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of predictions equal to the labels (shapes must agree)."""
    predicted = np.asarray(predictions).reshape(-1)
    truth = np.asarray(labels).reshape(-1)
    if predicted.shape != truth.shape:
        raise AssertionError(
            f"the model gave {predicted.size:,} predictions for {truth.size:,} examples"
        )
    if truth.size == 0:
        raise ValueError("no labels to compute an accuracy on")
    return float(np.count_nonzero(predicted == truth)) / truth.size


def accuracy(
    nb: Notebook,
    model: KernelObject,
    x: np.ndarray | KernelObject,
    labels: np.ndarray,
    *,
    batch_size: int = 256,
    binary_threshold: float | None = None,
    framework: str | None = None,
    timeout: float | None = None,
    preprocess: bool = True,
) -> float:
    """Accuracy of the model's predictions for ``x`` against ``labels`` (held by the grader).

    The inputs go through the notebook's ``preprocess(x)`` when it defines one: a held-out
    accuracy judges the trained model as the student prepares its inputs.
    """
    predictions = predict_classes(
        nb,
        model,
        x,
        batch_size=batch_size,
        binary_threshold=binary_threshold,
        framework=framework,
        timeout=timeout,
        preprocess=preprocess,
    )
    value = accuracy_of(predictions, labels)
    nb.record("accuracy", value)
    return value


def expect_accuracy_at_least(
    value: float,
    threshold: float,
    *,
    what: str = "accuracy",
    own: float | None = None,
    inputs: str = "new inputs prepared as the lab states",
) -> None:
    """``value >= threshold`` (NaN fails).

    ``own`` is the accuracy the notebook reports on its own test split. When that passes
    and the grader's does not, the likely cause is input preparation, not the model, and
    the message says so instead of blaming the accuracy.
    """
    if value >= threshold:
        return
    if own is not None and own >= threshold:
        expect_same_preparation(value, own, inputs=inputs)
    raise AssertionError(f"{what} {fmt_number(value)}, expected at least {fmt_number(threshold)}")


#: A gap between the notebook's own accuracy and the grader's that points at preparation.
PREPARATION_GAP = 0.2


def expect_same_preparation(
    value: float, own: float, *, inputs: str = "new inputs prepared as the lab states"
) -> None:
    """The model does about as well on the grader's inputs as on the notebook's own split.

    A trained model that scores ``own`` on the student's test split and far less on
    inputs prepared as the lab states was trained on inputs prepared another way (a
    normalisation) that new inputs do not get: the message names that cause.
    """
    if own - value >= PREPARATION_GAP:
        raise AssertionError(preparation_message(value, own, inputs))


def expect_input_preparation(
    nb: Notebook,
    model: KernelObject,
    x: np.ndarray,
    labels: np.ndarray,
    *,
    own: float | None,
    inputs: str,
    own_name: str = "test_accuracy",
) -> float:
    """The public warning of the image labs (issue 16): the trained model does about as well
    on ``x``, prepared as the lab states (and through the notebook's ``preprocess(x)`` when
    it defines one), as the notebook says it does on its own split (``own``).

    Without that number (``own`` None: the notebook has no usable ``own_name``) it only
    checks that the model runs on ``x``, and says so in a note. Returns the accuracy.
    """
    value = accuracy(nb, model, x, labels)
    if own is None:
        nb.note(f"no `{own_name}` to compare with: only checked that the model runs on {inputs}")
    else:
        expect_same_preparation(value, own, inputs=inputs)
    return value


def preparation_message(value: float, own: float, inputs: str) -> str:
    """What a student reads when the model does much worse on the grader's inputs than on
    their own split (``value`` and ``own``: an accuracy, an error, ...): the cause and the fix.
    """
    return (
        f"{fmt_number(own)} on your test split, {fmt_number(value)} on {inputs}: your "
        f"model only works on inputs prepared your way; define {PREPROCESS}(x) to "
        "prepare new inputs the same way (e.g. your normalisation), or normalise inside "
        "the model"
    )


def reported_number(nb: Notebook, name: str, key: str | None = None) -> float | None:
    """The notebook's own ``name`` (say ``test_accuracy``), or ``name[key]`` of a dictionary
    (``accuracies["fine_tuned"]``), when it is one finite number (a NumPy scalar or
    one-element array counts), else None.

    For comparisons that only inform, such as the preparation warning: a missing or
    malformed value is graded by the criterion that asks for it, not held against another.
    """
    if not nb.exists(name):
        return None
    value = nb.get(name)
    if key is not None:
        value = value.get(key) if type(value) is dict else None
    if type(value) is np.ndarray and value.size == 1 and value.dtype.kind in "iuf":
        value = value.reshape(()).item()
    if type(value) not in (int, float) or not math.isfinite(value):
        return None
    return float(value)


def expect_reported_accuracy(reported: object, measured: float, *, atol: float = 1e-6) -> None:
    """An accuracy the student's code reported (e.g. ``evaluate()``) equals the grader's count."""
    if type(reported) not in (int, float) or not abs(float(reported) - measured) <= atol:
        shown = (
            fmt_number(float(reported)) if type(reported) in (int, float) else repr(reported)[:40]
        )
        raise AssertionError(
            f"your code reports an accuracy of {shown}, but the model's predictions give "
            f"{fmt_number(measured)}"
        )
