"""Exact JSON encoding of numpy arrays, numpy scalars and attribute values.

Plain JSON types (str, int, float incl. NaN, bool, None, lists and str-keyed dicts) are kept as
they are. numpy arrays, numpy scalars and tuples are tagged so they decode to the same type and
dtype. Anything else is rejected: the store promises an exact round trip, not a best effort.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from rareflow.store.errors import UnsupportedDatasetError

_ARRAY_TAG = "__ndarray__"
_SCALAR_TAG = "__npscalar__"
_TUPLE_TAG = "__tuple__"
_TAGS = frozenset({_ARRAY_TAG, _SCALAR_TAG, _TUPLE_TAG})


def encode_array(values: np.ndarray[Any, Any], what: str) -> dict[str, Any]:
    """Encode an array as ``{"dtype", "shape", "values"}`` with a flat, JSON-native value list."""
    dtype = values.dtype
    flat = values.reshape(-1)
    if dtype.kind in "mM":
        items: list[Any] = flat.view(np.int64).tolist()
    elif dtype.kind in "biufU":
        items = flat.tolist()
    elif dtype.kind == "O":
        items = flat.tolist()
        for item in items:
            if item is not None and not isinstance(item, str | int | float | bool):
                raise UnsupportedDatasetError(
                    f"{what}: object array holds {type(item).__name__}; "
                    "only str, int, float, bool and None can be stored"
                )
    else:
        raise UnsupportedDatasetError(f"{what}: dtype {dtype} cannot be stored")
    if dtype.kind in "UO" and any(isinstance(item, str) and "\x00" in item for item in items):
        # numpy's fixed-width strings drop NUL characters, so such labels cannot round-trip.
        raise UnsupportedDatasetError(f"{what}: a label contains a NUL character")
    return {"dtype": dtype.str if dtype.kind != "O" else "object", "shape": list(values.shape),
            "values": items}


def decode_array(encoded: Mapping[str, Any]) -> np.ndarray[Any, Any]:
    """Inverse of :func:`encode_array`."""
    dtype = np.dtype(encoded["dtype"])
    shape = tuple(int(n) for n in encoded["shape"])
    items = encoded["values"]
    flat: np.ndarray[Any, Any]
    if dtype.kind in "mM":
        flat = np.array(items, dtype=np.int64).view(dtype)
    elif dtype.kind == "O":
        flat = np.empty(len(items), dtype=object)
        flat[:] = items
    else:
        flat = np.array(items, dtype=dtype)
    return flat.reshape(shape)


def encode_value(value: Any, what: str) -> Any:
    """Encode one attribute value (recursively) into JSON-native data."""
    if value is None:
        return None
    plain = isinstance(value, str | bool | int | float)
    if plain and not isinstance(value, np.generic):  # np.float64 subclasses float
        return value
    if isinstance(value, np.ndarray):
        return {_ARRAY_TAG: encode_array(value, what)}
    if isinstance(value, np.generic):
        return {_SCALAR_TAG: encode_array(np.asarray(value), what)}
    if isinstance(value, tuple):
        return {_TUPLE_TAG: [encode_value(item, what) for item in value]}
    if isinstance(value, list):
        return [encode_value(item, what) for item in value]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or key in _TAGS:
                raise UnsupportedDatasetError(f"{what}: mapping key {key!r} cannot be stored")
            out[key] = encode_value(item, f"{what}[{key!r}]")
        return out
    raise UnsupportedDatasetError(
        f"{what}: values of type {type(value).__name__} cannot be stored exactly"
    )


def decode_value(value: Any) -> Any:
    """Inverse of :func:`encode_value`."""
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == _ARRAY_TAG:
                return decode_array(inner)
            if key == _SCALAR_TAG:
                return decode_array(inner)[()]
            if key == _TUPLE_TAG:
                return tuple(decode_value(item) for item in inner)
        return {key: decode_value(item) for key, item in value.items()}
    return value


def encode_attrs(attrs: Mapping[Any, Any], what: str) -> dict[str, Any]:
    """Encode an ``attrs`` mapping; keys must be strings."""
    encoded = encode_value(dict(attrs), what)
    assert isinstance(encoded, dict)
    return encoded


def decode_attrs(encoded: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`encode_attrs`."""
    return {key: decode_value(item) for key, item in encoded.items()}


def dumps(data: Any) -> str:
    """Serialise JSON-native data compactly (NaN allowed, key order kept)."""
    return json.dumps(data, separators=(",", ":"), allow_nan=True)


def loads(text: str) -> Any:
    """Parse text written by :func:`dumps`."""
    return json.loads(text)
