"""The wire format rejects anything that is not plain data; nothing is ever unpickled."""

import base64
import io
import json

import numpy as np
import pytest

from grader.probes import wire


def roundtrip(value):
    return wire.decode(json.loads(wire.dumps(value)))


def test_plain_values_roundtrip():
    value = {
        "a": [1, 2.5, None, True, "x"],
        "t": (1, float("nan")),
        "arr": np.arange(6).reshape(2, 3),
    }
    got = roundtrip(value)
    assert got["a"] == [1, 2.5, None, True, "x"]
    assert isinstance(got["t"], tuple) and np.isnan(got["t"][1])
    assert got["arr"].shape == (2, 3) and got["arr"].dtype == np.arange(1).dtype


def test_zero_dimensional_and_strided_arrays_keep_their_shape():
    scalar = roundtrip({"s": np.array(3.5, dtype=np.float32)})["s"]
    assert scalar.shape == () and scalar.dtype == np.float32 and scalar == 3.5
    strided = roundtrip(np.arange(12).reshape(3, 4)[:, ::2])
    assert strided.shape == (3, 2) and strided.tolist() == [[0, 2], [4, 6], [8, 10]]


def test_object_arrays_are_refused_on_both_sides():
    with pytest.raises(wire.Unencodable):
        wire.encode(np.array([object()]))
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    forged = {"$ndarray": base64.b64encode(buffer.getvalue()).decode()}
    with pytest.raises(wire.WireError):
        wire.decode(forged)


def test_pickle_bytes_disguised_as_npy_are_refused():
    import pickle

    forged = {"$ndarray": base64.b64encode(pickle.dumps([1, 2])).decode()}
    with pytest.raises(wire.WireError):
        wire.decode(forged)


@pytest.mark.parametrize(
    "message",
    [
        {"$unknown": 1},
        {"$list": 3},
        {"a": 1, "b": 2},
        [1, 2],
        {"$float": "1e308"},
        {"$ref": "not an id!"},
        {"$dict": {"k": {"$ndarray": "not base64!"}}},
    ],
)
def test_malformed_messages_are_rejected(message):
    with pytest.raises(wire.WireError):
        wire.decode(message)


def test_depth_and_size_limits():
    deep = 1
    for _ in range(100):
        deep = {"$list": [deep]}
    with pytest.raises(wire.WireError, match="deep"):
        wire.decode(deep)
    big = {"$ndarray": wire.encode(np.zeros(1000))["$ndarray"]}
    with pytest.raises(wire.WireError, match="size"):
        wire.decode(big, wire.Limits(max_array_bytes=100))


def test_objects_become_refs_only_when_allowed():
    class Model:
        pass

    with pytest.raises(wire.Unencodable):
        wire.encode(Model())
    encoded = wire.encode([Model()], to_ref=lambda obj: wire.Ref("r1"))
    assert wire.decode(encoded) == [wire.Ref("r1")]


def test_int_subclass_is_not_trusted_as_int():
    class Sneaky(int):
        def __eq__(self, other):
            return True

    with pytest.raises(wire.Unencodable):
        wire.encode(Sneaky(3))


def _item_by_item(value):
    """The encoding without the fast path for number lists: one ``encode`` per item."""
    if type(value) in (list, tuple):
        tag = "$list" if type(value) is list else "$tuple"
        return {tag: [_item_by_item(v) for v in value]}
    return wire.encode(value)


@pytest.mark.parametrize(
    "numbers",
    [
        [0.5, 2, -3.25],
        [np.float64(0.1), np.float32(0.1), 7],
        (1.0, float("inf"), np.float64("nan")),  # non-finite: the general path tags them
        [1, True, 2.0],  # a bool is not a number here
        [np.int64(3), 1.5],
        [],
    ],
)
def test_number_lists_encode_as_item_by_item_encoding_would(numbers):
    assert json.dumps(wire.encode(numbers)) == json.dumps(_item_by_item(numbers))
    back = roundtrip(numbers)
    assert type(back) is type(numbers) and len(back) == len(numbers)
    assert [type(v) for v in back] == [type(v) for v in wire.decode(_item_by_item(numbers))]


def test_number_lists_are_counted_and_checked_on_arrival():
    losses = {"$list": [0.5] * 1000}
    assert wire.decode(losses) == [0.5] * 1000
    with pytest.raises(wire.WireError, match="too many items"):
        wire.decode(losses, wire.Limits(max_items=999))
    with pytest.raises(wire.WireError, match="non-finite"):
        wire.decode({"$list": [0.5, float("nan")]})  # json.loads accepts a bare NaN
    with pytest.raises(wire.WireError, match="untagged"):
        wire.decode({"$tuple": [1.0, [2.0]]})
