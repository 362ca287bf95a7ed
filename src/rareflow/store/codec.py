"""Turn one result Dataset into tidy Arrow tables (one per variable) plus a JSON layout, and back.

Each data variable becomes a table with one column per dimension (labels, dictionary-encoded)
and a ``value`` column, rows in C order of the variable's dims. Everything else needed for an
exact round trip -- the coordinates with their dtypes and attrs, each variable's dims, dtype and
attrs, the order of variables -- goes into the *layout*, a JSON document shared by all draws of a
run that have the same shape. Dataset-level attrs are kept separately because they may differ per
draw (a draw's own seed, for instance).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import xarray as xr

from rareflow.store import jsonvalues
from rareflow.store.errors import CorruptStoreError, UnsupportedDatasetError

VALUE_COLUMN = "value"
DRAW_COLUMN = "draw"
#: Names a dimension may not take: they are columns the store adds when reading.
RESERVED_DIMS = frozenset({VALUE_COLUMN, DRAW_COLUMN, "file_row_number", "filename"})
LAYOUT_VERSION = 1
_VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class EncodedDataset:
    """A Dataset split into what the store writes: layout, attrs and one table per variable."""

    layout: dict[str, Any]
    attrs: dict[str, Any]
    tables: dict[str, pa.Table]

    @property
    def layout_text(self) -> str:
        """The layout as canonical JSON text."""
        return jsonvalues.dumps(self.layout)

    @property
    def layout_id(self) -> str:
        """A content hash of the layout, used to store each distinct layout once."""
        return hashlib.sha256(self.layout_text.encode()).hexdigest()[:20]


def _name(name: Hashable, kind: str) -> str:
    if not isinstance(name, str):
        raise UnsupportedDatasetError(f"{kind} name {name!r} is not a string")
    return name


def check_variable_name(name: str) -> str:
    """Return ``name`` if it is usable as a file name, else raise."""
    if not _VARIABLE_NAME.match(name):
        raise UnsupportedDatasetError(
            f"variable name {name!r} must match {_VARIABLE_NAME.pattern} to be stored as a file"
        )
    return name


def encode_dataset(ds: xr.Dataset) -> EncodedDataset:
    """Split ``ds`` into layout, attrs and per-variable tables; validates everything first."""
    sizes = {_name(dim, "dimension"): int(size) for dim, size in ds.sizes.items()}
    for dim in sizes:
        if dim in RESERVED_DIMS:
            raise UnsupportedDatasetError(
                f"dimension {dim!r} is reserved by the run store ({sorted(RESERVED_DIMS)}); "
                "write one draw at a time"
            )
    coords: dict[str, Any] = {}
    for cname, coord in ds.coords.items():
        name = _name(cname, "coordinate")
        values = np.asarray(coord.values)
        if name in sizes and coord.dims == (name,) and not pd.Index(values).is_unique:
            raise UnsupportedDatasetError(f"index coordinate {name!r} has duplicate labels")
        coords[name] = {
            "dims": [str(d) for d in coord.dims],
            "data": jsonvalues.encode_array(values, f"coordinate {name!r}"),
            "attrs": jsonvalues.encode_attrs(coord.attrs, f"attrs of coordinate {name!r}"),
        }
    variables: dict[str, Any] = {}
    tables: dict[str, pa.Table] = {}
    for vname, var in ds.data_vars.items():
        name = check_variable_name(_name(vname, "variable"))
        dims = [str(d) for d in var.dims]
        variables[name] = {
            "dims": dims,
            "dtype": var.dtype.str if var.dtype.kind != "O" else "object",
            "attrs": jsonvalues.encode_attrs(var.attrs, f"attrs of variable {name!r}"),
        }
        tables[name] = _variable_table(name, var, ds)
    layout = {"version": LAYOUT_VERSION, "dims": sizes, "coords": coords, "data_vars": variables}
    attrs = jsonvalues.encode_attrs(ds.attrs, "dataset attrs")
    return EncodedDataset(layout=layout, attrs=attrs, tables=tables)


def _variable_table(name: str, var: xr.DataArray, ds: xr.Dataset) -> pa.Table:
    shape = var.shape
    columns: dict[str, pa.Array] = {}
    for axis, dim in enumerate(var.dims):
        size = shape[axis]
        inner = math.prod(shape[axis + 1 :])
        outer = math.prod(shape[:axis])
        codes = np.tile(np.repeat(np.arange(size, dtype=np.int32), inner), outer)
        if dim in ds.indexes:
            labels = np.asarray(ds[dim].values)
            try:
                dictionary = pa.array(labels)
            except (pa.ArrowException, TypeError, ValueError) as exc:
                raise UnsupportedDatasetError(
                    f"labels of dimension {dim!r} cannot be stored: {exc}"
                ) from exc
            columns[str(dim)] = pa.DictionaryArray.from_arrays(pa.array(codes), dictionary)
        else:
            columns[str(dim)] = pa.array(codes.astype(np.int64))
    try:
        columns[VALUE_COLUMN] = pa.array(np.asarray(var.values).reshape(-1))
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise UnsupportedDatasetError(
            f"values of variable {name!r} cannot be stored: {exc}"
        ) from exc
    return pa.table(columns)


def layout_from_text(text: str) -> dict[str, Any]:
    """Parse a stored layout and check its version."""
    layout = jsonvalues.loads(text)
    if not isinstance(layout, dict) or layout.get("version") != LAYOUT_VERSION:
        raise CorruptStoreError("stored dataset layout has an unknown version")
    return layout


def decode_dataset(
    layout: Mapping[str, Any], attrs: Mapping[str, Any], tables: Mapping[str, pa.Table]
) -> xr.Dataset:
    """Rebuild the Dataset described by ``layout`` from its per-variable tables."""
    sizes: dict[str, int] = {str(k): int(v) for k, v in layout["dims"].items()}
    coords: dict[str, Any] = {}
    indexes: dict[str, pd.Index[Any]] = {}
    for name, spec in layout["coords"].items():
        values = jsonvalues.decode_array(spec["data"])
        coords[name] = xr.Variable(
            tuple(spec["dims"]), values, attrs=jsonvalues.decode_attrs(spec["attrs"])
        )
        if name in sizes and list(spec["dims"]) == [name]:
            indexes[name] = pd.Index(values)
    data_vars: dict[str, Any] = {}
    for name, spec in layout["data_vars"].items():
        if name not in tables:
            raise CorruptStoreError(f"variable {name!r} is missing from the stored draw")
        dims = tuple(spec["dims"])
        values = _variable_values(name, tables[name], dims, sizes, indexes, np.dtype(spec["dtype"]))
        data_vars[name] = xr.Variable(dims, values, attrs=jsonvalues.decode_attrs(spec["attrs"]))
    return xr.Dataset(data_vars, coords=coords, attrs=jsonvalues.decode_attrs(attrs))


def _variable_values(
    name: str,
    table: pa.Table,
    dims: tuple[str, ...],
    sizes: Mapping[str, int],
    indexes: Mapping[str, pd.Index[Any]],
    dtype: np.dtype[Any],
) -> np.ndarray[Any, Any]:
    shape = tuple(sizes[dim] for dim in dims)
    expected = math.prod(shape)
    if table.num_rows != expected:
        raise CorruptStoreError(
            f"variable {name!r} has {table.num_rows} rows, expected {expected} for shape {shape}"
        )
    raw: np.ndarray[Any, Any] = table.column(VALUE_COLUMN).to_numpy()
    values = raw.astype(dtype, copy=False) if dtype.kind != "O" else raw.astype(object)
    if not dims:
        return values.reshape(())
    positions = [_positions(name, table.column(dim), indexes.get(dim)) for dim in dims]
    if any(len(pos) and (pos.min() < 0 or pos.max() >= size)
           for pos, size in zip(positions, shape, strict=True)):
        raise CorruptStoreError(f"variable {name!r} has labels that are not in its coordinates")
    flat = np.ravel_multi_index(tuple(positions), shape)
    out = np.empty(expected, dtype=values.dtype)
    out[flat] = values
    return out.reshape(shape)


def _positions(
    name: str, column: pa.ChunkedArray, index: pd.Index[Any] | None
) -> np.ndarray[Any, Any]:
    """Positions along a dimension for every row of a tidy column."""
    parts: list[np.ndarray[Any, Any]] = []
    for chunk in column.chunks:
        if isinstance(chunk, pa.DictionaryArray):
            labels = chunk.dictionary.to_numpy(zero_copy_only=False)
            codes = chunk.indices.to_numpy(zero_copy_only=False)
            lookup = _lookup(name, labels, index)
            parts.append(lookup[codes])
        else:
            parts.append(_lookup(name, chunk.to_numpy(zero_copy_only=False), index))
    if not parts:
        return np.empty(0, dtype=np.int64)
    return np.concatenate(parts).astype(np.int64, copy=False)


def _lookup(
    name: str, labels: np.ndarray[Any, Any], index: pd.Index[Any] | None
) -> np.ndarray[Any, Any]:
    if index is None:  # dimension without coordinate: the column holds positions
        return labels.astype(np.int64)
    found = index.get_indexer(pd.Index(labels))
    if (found < 0).any():
        raise CorruptStoreError(f"variable {name!r} has labels that are not in its coordinates")
    return found
