"""Model structure checks: parameter counts, output shapes, per-layer shapes and counts.

Each measuring function asks a probe (``torch.*`` or ``keras.*``, chosen by
asking the kernel what the model is) for raw counts or shapes, records them with
``nb.record`` and returns plain values. The ``expect_*`` functions compare in
the grader's process and raise ``AssertionError`` with a message for the student.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grader.checks._common import (
    KernelObject,
    as_ref,
    fmt_shape,
    framework_of,
    plain_int,
    shape_tuple,
)
from grader.testing.fixture import Notebook

Shape = tuple[int, ...]


@dataclass(frozen=True)
class ParamCounts:
    total: int
    trainable: int
    non_trainable: int


@dataclass(frozen=True)
class LayerParams:
    name: str
    kind: str
    params: int
    trainable: int


@dataclass(frozen=True)
class LayerShape:
    name: str
    kind: str
    #: Shape of the layer's (first) output tensor, batch dimension included.
    output_shape: Shape | None
    params: int


def _first_shape(value: Any) -> Shape | None:
    """The main tensor's shape: the shape itself, or the first one inside nested outputs."""
    shape = shape_tuple(value)
    if shape is not None or type(value) not in (list, tuple) or not value:
        return shape
    return _first_shape(value[0])


def _rows(raw: Any, what: str) -> list[dict[str, Any]]:
    if type(raw) is not list or not all(type(row) is dict for row in raw):
        raise AssertionError(f"could not read {what} from the kernel")
    return raw


def _probe_kwargs(framework: str, input_shape: Sequence[int] | None) -> dict[str, Any]:
    if framework == "keras" and input_shape is not None:
        return {"input_shape": [int(d) for d in input_shape]}
    return {}


def param_counts(
    nb: Notebook,
    model: KernelObject,
    *,
    framework: str | None = None,
    input_shape: Sequence[int] | None = None,
) -> ParamCounts:
    """Total, trainable and non-trainable parameters (buffers are not parameters).

    ``input_shape`` builds an unbuilt Keras model first; PyTorch ignores it.
    """
    ref = as_ref(nb, model)
    fw = framework_of(nb, ref, framework)
    raw = nb.probe(f"{fw}.param_counts", model=ref, **_probe_kwargs(fw, input_shape))
    if type(raw) is not dict:
        raise AssertionError("could not read the parameter counts from the kernel")
    counts = ParamCounts(
        total=plain_int(raw.get("total"), "the parameter count"),
        trainable=plain_int(raw.get("trainable"), "the trainable parameter count"),
        non_trainable=plain_int(raw.get("non_trainable"), "the non-trainable parameter count"),
    )
    nb.record("params_total", counts.total)
    nb.record("params_trainable", counts.trainable)
    nb.record("params_non_trainable", counts.non_trainable)
    return counts


def expect_param_count(
    counts: ParamCounts | int,
    expected: int,
    near_misses: Mapping[int, str] | None = None,
    *,
    what: str = "parameters",
) -> None:
    """Exact total; a known wrong total gets its cause named.

    ``near_misses`` maps a wrong count to what produces it, phrased to follow
    "is what you get with": ``{61_706: "one input channel instead of 3"}``.
    """
    got = counts.total if isinstance(counts, ParamCounts) else int(counts)
    if got == expected:
        return
    message = f"{got:,} {what}, expected {expected:,}"
    hint = (near_misses or {}).get(got)
    if hint:
        message += f" ({got:,} is what you get with {hint})"
    raise AssertionError(message)


def expect_trainable_counts(
    counts: ParamCounts, *, trainable: int | None = None, non_trainable: int | None = None
) -> None:
    """Trainable and frozen counts, e.g. after freezing a base network or adding batch norm."""
    if trainable is not None and counts.trainable != trainable:
        raise AssertionError(f"{counts.trainable:,} trainable parameters, expected {trainable:,}")
    if non_trainable is not None and counts.non_trainable != non_trainable:
        raise AssertionError(
            f"{counts.non_trainable:,} non-trainable parameters, expected {non_trainable:,}"
        )


def layer_param_counts(
    nb: Notebook,
    model: KernelObject,
    *,
    framework: str | None = None,
    input_shape: Sequence[int] | None = None,
) -> list[LayerParams]:
    """Own parameter counts of each layer (PyTorch: modules owning parameters; Keras: top level)."""
    ref = as_ref(nb, model)
    fw = framework_of(nb, ref, framework)
    rows = _rows(
        nb.probe(f"{fw}.layer_params", model=ref, **_probe_kwargs(fw, input_shape)),
        "the per-layer parameter counts",
    )
    layers = [
        LayerParams(
            name=str(row.get("name")),
            kind=str(row.get("kind")),
            params=plain_int(row.get("params"), "a layer's parameter count"),
            trainable=plain_int(row.get("trainable"), "a layer's trainable count"),
        )
        for row in rows
    ]
    nb.record("layer_params", [layer.params for layer in layers if layer.params])
    return layers


def expect_layer_param_counts(layers: Sequence[LayerParams], expected: Sequence[int]) -> None:
    """The layers that have parameters, in order, have exactly these counts."""
    got = [layer.params for layer in layers if layer.params]
    if got == list(expected):
        return
    described = ", ".join(
        f"{layer.name or layer.kind} {layer.params:,}" for layer in layers if layer.params
    )
    for position, (have, want) in enumerate(zip(got, expected, strict=False)):
        if have != want:
            raise AssertionError(
                f"layer {position + 1} with parameters has {have:,}, expected {want:,} "
                f"(your layers: {described})"
            )
    raise AssertionError(
        f"{len(got)} layers have parameters, expected {len(expected)} (your layers: {described})"
    )


def output_shapes(
    nb: Notebook,
    model: KernelObject,
    input_shapes: Sequence[Sequence[int]],
    *,
    framework: str | None = None,
    dtype: str = "float32",
) -> dict[Shape, Shape | None]:
    """Output shape for a zero input of each shape (eval mode, no gradients)."""
    ref = as_ref(nb, model)
    fw = framework_of(nb, ref, framework)
    shapes = [tuple(int(d) for d in shape) for shape in input_shapes]
    raw = nb.probe(
        f"{fw}.output_shapes", model=ref, input_shapes=[list(s) for s in shapes], dtype=dtype
    )
    if type(raw) is not list or len(raw) != len(shapes):
        raise AssertionError("could not read the output shapes from the kernel")
    result = {shape: _first_shape(out) for shape, out in zip(shapes, raw, strict=True)}
    nb.record("output_shapes", {fmt_shape(k): fmt_shape(v) for k, v in result.items()})
    return result


def expect_output_shapes(
    shapes: Mapping[Shape, Shape | None],
    expected: Callable[[Shape], Sequence[int]] | Mapping[Shape, Sequence[int]],
) -> None:
    """Each input shape gives the expected output, e.g. ``lambda s: (s[0], 10)``."""
    for input_shape, got in shapes.items():
        want = tuple(expected(input_shape) if callable(expected) else expected[input_shape])
        if got != want:
            raise AssertionError(
                f"for an input of shape {fmt_shape(input_shape)} the output has shape "
                f"{fmt_shape(got)}, expected {fmt_shape(want)}"
            )


def layer_shapes(
    nb: Notebook,
    model: KernelObject,
    input_shape: Sequence[int],
    *,
    framework: str | None = None,
    dtype: str = "float32",
) -> list[LayerShape]:
    """Output shape of each layer in the order the forward pass calls them.

    PyTorch: every leaf module through forward hooks (functional calls such as
    ``F.relu`` or ``x.view`` have no module and do not appear). Keras: every
    top-level layer.
    """
    ref = as_ref(nb, model)
    fw = framework_of(nb, ref, framework)
    raw = nb.probe(
        f"{fw}.layer_shapes", model=ref, input_shape=[int(d) for d in input_shape], dtype=dtype
    )
    if type(raw) is not dict:
        raise AssertionError("could not read the layer shapes from the kernel")
    layers = [
        LayerShape(
            name=str(row.get("name")),
            kind=str(row.get("kind")),
            output_shape=_first_shape(row.get("output_shape")),
            params=plain_int(row.get("params"), "a layer's parameter count"),
        )
        for row in _rows(raw.get("layers"), "the layer shapes")
    ]
    nb.record("layer_shapes", [f"{layer.kind} {fmt_shape(layer.output_shape)}" for layer in layers])
    return layers


def expect_layer_shapes(
    layers: Sequence[LayerShape], expected: Sequence[Sequence[int]], *, with_batch: bool = False
) -> None:
    """The expected shapes occur in this order among the layers' outputs.

    Shapes are per example (batch dimension dropped) unless ``with_batch``. The
    match is a subsequence, so a ReLU module the student adds (or leaves to
    ``F.relu``) neither helps nor hurts: LeNet-5 is
    ``[(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120,), (84,), (10,)]``.
    """

    def per_example(shape: Shape | None) -> Shape | None:
        return shape if with_batch or shape is None else shape[1:]

    observed = [(layer, per_example(layer.output_shape)) for layer in layers]
    position = 0
    for index, want in enumerate(tuple(int(d) for d in shape) for shape in expected):
        while position < len(observed) and observed[position][1] != want:
            position += 1
        if position == len(observed):
            after = ""
            if index:
                after = f" after {fmt_shape(tuple(int(d) for d in expected[index - 1]))}"
            sequence = " -> ".join(fmt_shape(shape) for _, shape in observed)
            raise AssertionError(
                f"no layer outputs shape {fmt_shape(want)}{after}; "
                f"your layers give {sequence or 'no layers'}"
            )
        position += 1
