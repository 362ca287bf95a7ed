"""Turn one result Dataset into tidy Arrow tables (one per variable) plus a JSON layout, and back.

Each data variable becomes a table with one column per dimension (labels, dictionary-encoded;
positions for a dimension without coordinate) and a ``value`` column, rows in C order of the
variable's dims (the store appends ``run_id`` and ``draw`` when it writes the files:
:func:`rareflow.store.files.with_identity`). Float variables are stored *without their zero
rows* (layout version 2, ``"rows": "nonzero"``): a cell is kept iff ``value != 0 or
signbit(value)``, so -0.0 and NaN are kept and an absent row means +0.0. Other variables keep
every cell (``"rows": "all"``), as did every variable in version 1 layouts, which are still
read. Everything else needed for an exact round trip -- the coordinates with their dtypes and
attrs, each variable's dims, dtype, rows and attrs, the order of variables -- goes into the
*layout*, a JSON document shared by all draws of a run that have the same shape. Dataset-level
attrs are kept separately because they may differ per draw (a draw's own seed, for instance).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xarray as xr

from rareflow.store import jsonvalues
from rareflow.store.errors import CorruptStoreError, StoreError, UnsupportedDatasetError

VALUE_COLUMN = "value"
DRAW_COLUMN = "draw"
#: The column, in every file the store writes, holding the run's id (``draw`` holds the draw).
RUN_COLUMN = "run_id"
#: Names a dimension may not take: columns the store writes into its files or adds when reading.
RESERVED_DIMS = frozenset({VALUE_COLUMN, DRAW_COLUMN, RUN_COLUMN, "file_row_number", "filename"})
#: Version of the layouts written; :data:`READABLE_LAYOUT_VERSIONS` are read.
LAYOUT_VERSION = 2
READABLE_LAYOUT_VERSIONS = frozenset({1, 2})
#: A variable's ``rows`` in the layout: every cell, or only cells that are not +0.0.
ROWS_ALL = "all"
ROWS_NONZERO = "nonzero"
#: Rows per Arrow chunk of the label columns that :func:`full_rows` builds.
_CHUNK_ROWS = 1 << 20
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
                "write one draw at a time, and rename other such dimensions"
            )
    coords: dict[str, Any] = {}
    for cname in ds.coords:
        name = _name(cname, "coordinate")
        coord = ds.variables[cname]
        values = np.asarray(coord.values)
        if name in sizes and coord.dims == (name,) and not _is_unique(values):
            raise UnsupportedDatasetError(f"index coordinate {name!r} has duplicate labels")
        coords[name] = {
            "dims": [str(d) for d in coord.dims],
            "data": jsonvalues.encode_array(values, f"coordinate {name!r}"),
            "attrs": jsonvalues.encode_attrs(coord.attrs, f"attrs of coordinate {name!r}"),
        }
    variables: dict[str, Any] = {}
    tables: dict[str, pa.Table] = {}
    dictionaries = _Dictionaries(ds)
    for vname in ds.data_vars:
        name = check_variable_name(_name(vname, "variable"))
        var = ds.variables[vname]  # a Variable: much cheaper to get than a DataArray
        rows = ROWS_NONZERO if var.dtype.kind == "f" else ROWS_ALL
        variables[name] = {
            "dims": [str(d) for d in var.dims],
            "dtype": var.dtype.str if var.dtype.kind != "O" else "object",
            "rows": rows,
            "attrs": jsonvalues.encode_attrs(var.attrs, f"attrs of variable {name!r}"),
        }
        tables[name] = _variable_table(name, var, rows, dictionaries)
    layout = {"version": LAYOUT_VERSION, "dims": sizes, "coords": coords, "data_vars": variables}
    attrs = jsonvalues.encode_attrs(ds.attrs, "dataset attrs")
    return EncodedDataset(layout=layout, attrs=attrs, tables=tables)


def _is_unique(values: np.ndarray[Any, Any]) -> bool:
    if values.dtype.kind in "biuU":  # no NaN-like labels: numpy's sort is exact and quicker
        return bool(np.unique(values).size == values.size)
    return bool(pd.Index(values).is_unique)


class _Dictionaries:
    """The labels of each indexed dimension of a Dataset as an Arrow array, built once."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds
        self._indexed = {str(name) for name in ds.indexes}
        self._arrays: dict[str, pa.Array] = {}

    def get(self, dim: str) -> pa.Array | None:
        """Labels of ``dim``, or None for a dimension without index."""
        if dim not in self._indexed:
            return None
        if dim not in self._arrays:
            try:
                self._arrays[dim] = pa.array(np.asarray(self._ds.variables[dim].values))
            except (pa.ArrowException, TypeError, ValueError) as exc:
                raise UnsupportedDatasetError(
                    f"labels of dimension {dim!r} cannot be stored: {exc}"
                ) from exc
        return self._arrays[dim]


def _variable_table(
    name: str, var: xr.Variable, rows: str, dictionaries: _Dictionaries
) -> pa.Table:
    values = np.asarray(var.values).reshape(-1)
    codes: Sequence[np.ndarray[Any, Any]]
    if rows == ROWS_NONZERO:
        # Positions of the kept cells first, so codes are built only for them.
        kept = np.flatnonzero((values != 0) | np.signbit(values))
        values = values[kept]
        codes = np.unravel_index(kept, var.shape) if var.ndim else ()
    else:
        codes = list(_dense_codes(var.shape))
    columns: dict[str, pa.Array] = {}
    for dim, dim_codes in zip(var.dims, codes, strict=True):
        columns[str(dim)] = _label_column(dim_codes, dictionaries.get(str(dim)))
    try:
        columns[VALUE_COLUMN] = pa.array(values)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise UnsupportedDatasetError(
            f"values of variable {name!r} cannot be stored: {exc}"
        ) from exc
    return pa.table(columns)


def _dense_codes(shape: tuple[int, ...]) -> Iterator[np.ndarray[Any, Any]]:
    """Position along each axis of every cell of ``shape``, cells in C order."""
    for axis, size in enumerate(shape):
        inner = math.prod(shape[axis + 1 :])
        outer = math.prod(shape[:axis])
        yield np.tile(np.repeat(np.arange(size, dtype=np.int32), inner), outer)


def _label_column(codes: np.ndarray[Any, Any], labels: pa.Array | None) -> pa.Array:
    """``labels`` at ``codes``, dictionary-encoded; the codes themselves if there are none."""
    if labels is None:
        return pa.array(codes.astype(np.int64, copy=False))
    indices = pa.array(codes.astype(np.int32, copy=False))
    return pa.DictionaryArray.from_arrays(indices, labels)


def layout_from_text(text: str) -> dict[str, Any]:
    """Parse a stored layout and check its version."""
    layout = jsonvalues.loads(text)
    if not isinstance(layout, dict) or not _readable(layout.get("version")):
        raise CorruptStoreError("stored dataset layout has an unknown version")
    return layout


def _readable(version: Any) -> bool:
    return type(version) is int and version in READABLE_LAYOUT_VERSIONS  # not True == 1


def variable_rows(name: str, spec: Mapping[str, Any]) -> str:
    """Which rows a variable's files hold: :data:`ROWS_ALL` or :data:`ROWS_NONZERO`.

    ``spec`` is the variable's entry in a layout's ``data_vars``; version 1 layouts have no
    ``rows`` and store every cell.
    """
    rows = spec.get("rows", ROWS_ALL)
    if rows not in (ROWS_ALL, ROWS_NONZERO):
        raise CorruptStoreError(f"variable {name!r} has an unknown row layout {rows!r}")
    return str(rows)


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
        values = _variable_values(name, tables[name], spec, sizes, indexes)
        data_vars[name] = xr.Variable(
            tuple(spec["dims"]), values, attrs=jsonvalues.decode_attrs(spec["attrs"])
        )
    return xr.Dataset(data_vars, coords=coords, attrs=jsonvalues.decode_attrs(attrs))


def _variable_values(
    name: str,
    table: pa.Table,
    spec: Mapping[str, Any],
    sizes: Mapping[str, int],
    indexes: Mapping[str, pd.Index[Any]],
) -> np.ndarray[Any, Any]:
    dims = tuple(spec["dims"])
    dtype = np.dtype(spec["dtype"])
    sparse = variable_rows(name, spec) == ROWS_NONZERO
    shape = tuple(sizes[dim] for dim in dims)
    cells = math.prod(shape)
    _check_row_count(name, table.num_rows, cells, sparse, f"for shape {shape}")
    raw: np.ndarray[Any, Any] = table.column(VALUE_COLUMN).to_numpy()
    values = raw.astype(dtype, copy=False) if dtype.kind != "O" else raw.astype(object)
    flat = _cell_positions(name, table, dims, shape, indexes)
    _check_unique(name, flat)
    out = np.zeros(cells, dtype=values.dtype) if sparse else np.empty(cells, dtype=values.dtype)
    out[flat] = values
    return out.reshape(shape)


def _check_row_count(name: str, n_rows: int, cells: int, sparse: bool, where: str) -> None:
    if sparse and n_rows > cells:
        raise CorruptStoreError(
            f"variable {name!r} has {n_rows} rows, more than its {cells} cells {where}"
        )
    if not sparse and n_rows != cells:
        raise CorruptStoreError(
            f"variable {name!r} has {n_rows} rows, expected {cells} {where}"
        )


def _check_unique(name: str, flat: np.ndarray[Any, Any]) -> None:
    """Raise if two rows hold the same cell (rows written in C order pass the quick test)."""
    if flat.size > 1 and not (np.diff(flat) > 0).all() and np.unique(flat).size != flat.size:
        raise CorruptStoreError(f"variable {name!r} has several rows for the same cell")


def _cell_positions(
    name: str,
    table: pa.Table,
    dims: tuple[str, ...],
    shape: tuple[int, ...],
    indexes: Mapping[str, pd.Index[Any]],
) -> np.ndarray[Any, Any]:
    """Flat C-order position of the cell of each row of ``table``."""
    if not dims:
        return np.zeros(table.num_rows, dtype=np.int64)
    positions = [_positions(name, table.column(dim), indexes.get(dim)) for dim in dims]
    if any(len(pos) and (pos.min() < 0 or pos.max() >= size)
           for pos, size in zip(positions, shape, strict=True)):
        raise CorruptStoreError(f"variable {name!r} has labels that are not in its coordinates")
    flat: np.ndarray[Any, Any] = np.ravel_multi_index(tuple(positions), shape)
    return flat


def _positions(
    name: str, column: pa.ChunkedArray, index: pd.Index[Any] | None
) -> np.ndarray[Any, Any]:
    """Positions along a dimension for every row of a tidy column."""
    if index is not None and not pa.types.is_dictionary(column.type):
        found = _index_in(name, column, index)
        if found is not None:
            return found
        # Look each distinct label up once, not once per row (or per chunk: readers such as
        # DuckDB return many small chunks).
        column = pa.chunked_array([column.combine_chunks().dictionary_encode()])
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


def _index_in(
    name: str, column: pa.ChunkedArray, index: pd.Index[Any]
) -> np.ndarray[Any, Any] | None:
    """Positions of the labels of a column of strings or integers, or None for other columns.

    Arrow's ``index_in`` is a few times faster than pandas on the plain columns DuckDB returns.
    It is used only where both the labels and the column hold strings or both integers, the
    types for which its equality is pandas' (no NaN, no -0.0, no cast between kinds).
    """
    try:
        value_set = pa.array(index.to_numpy())
    except (pa.ArrowException, TypeError, ValueError):
        return None
    kinds = (column.type, value_set.type)
    if not (all(map(pa.types.is_integer, kinds)) or all(map(_is_text, kinds))):
        return None
    try:
        value_set = value_set.cast(column.type)
    except (pa.ArrowException, TypeError, ValueError):  # e.g. labels out of the column's range
        return None
    found = pc.index_in(column, value_set=value_set)
    if found.null_count:
        raise CorruptStoreError(f"variable {name!r} has labels that are not in its coordinates")
    return np.asarray(found.to_numpy(), dtype=np.int64)


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _lookup(
    name: str, labels: np.ndarray[Any, Any], index: pd.Index[Any] | None
) -> np.ndarray[Any, Any]:
    if index is None:  # dimension without coordinate: the column holds positions
        return labels.astype(np.int64)
    found = index.get_indexer(pd.Index(labels))
    if (found < 0).any():
        raise CorruptStoreError(f"variable {name!r} has labels that are not in its coordinates")
    return found


# -- every cell of one variable across draws ---------------------------------------------------


def full_rows(
    name: str, table: pa.Table, draws: Sequence[tuple[int, Mapping[str, Any]]]
) -> pa.Table:
    """Every cell of variable ``name`` in each of ``draws``, from the rows their files hold.

    ``table`` holds the stored rows of those draws (a ``draw`` column, one column per dim and
    ``value``), normally by draw and then as written; ``draws`` are the ``(draw, layout)``
    pairs by increasing draw. Returns a table with ``table``'s schema and one row per cell, by
    draw and then in C order of the dims; cells a sparse variable does not store are 0. Draws
    whose files hold every cell are passed through as stored (written in C order), like a
    dense variable; the others are rebuilt from their rows' labels. Raises
    :class:`CorruptStoreError` for rows that do not fit their layout, and :class:`StoreError`
    if the variable's dims differ between draws.
    """
    numbers = np.fromiter((draw for draw, _ in draws), dtype=np.int64, count=len(draws))
    index = _draw_index(table, numbers)
    counts = np.bincount(index, minlength=len(numbers))
    in_draw_order = bool((np.diff(index) >= 0).all())
    grids = [_grid(name, layout) for _, layout in draws]
    starts = [i for i in range(len(grids)) if i == 0 or grids[i] != grids[i - 1]]
    parts: list[pa.Table] = []
    for start, stop in zip(starts, [*starts[1:], len(grids)], strict=True):
        dims, _, axes = grids[start]
        if dims != grids[0][0]:
            raise StoreError(
                f"variable {name!r} has dims {grids[0][0]} in draw {numbers[0]} but "
                f"{dims} in draw {numbers[start]}; read such draws with load_result"
            )
        rows, local = table, index
        if len(starts) > 1:
            mask = (index >= start) & (index < stop)
            rows, local = table.filter(pa.array(mask)), index[mask]
        if in_draw_order and (counts[start:stop] == math.prod(n for n, _ in axes)).all():
            parts.append(rows)
        else:
            layout = draws[start][1]
            parts.append(_draw_rows(name, rows, local - start, numbers[start:stop], layout))
    if not parts:
        return table.slice(0, 0)
    return pa.concat_tables(parts)


def _draw_index(table: pa.Table, numbers: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Position in ``numbers`` (distinct draw numbers, increasing) of each row's draw."""
    draw = table.column(DRAW_COLUMN).to_numpy()
    if not len(draw):
        return np.zeros(0, dtype=np.int64)
    lookup = np.full(int(numbers[-1]) + 1 if len(numbers) else 0, -1, dtype=np.int64)
    lookup[numbers] = np.arange(len(numbers))
    if draw.min() < 0 or draw.max() >= len(lookup) or (lookup[draw] < 0).any():
        raise CorruptStoreError("stored rows belong to a draw that was not asked for")
    index: np.ndarray[Any, Any] = lookup[draw]
    return index


def _grid(name: str, layout: Mapping[str, Any]) -> tuple[Any, ...]:
    """What the cells of a variable depend on: dims, rows, sizes and index labels."""
    spec = layout["data_vars"][name]
    dims = tuple(spec["dims"])
    axes = tuple((layout["dims"][dim], _index_data(layout, dim)) for dim in dims)
    return dims, variable_rows(name, spec), axes


def _index_data(layout: Mapping[str, Any], dim: str) -> Any:
    """The encoded labels of ``dim``'s index coordinate, or None if it has none."""
    spec = layout["coords"].get(dim)
    if spec is None or list(spec["dims"]) != [dim]:
        return None
    return spec["data"]


def _draw_rows(
    name: str,
    table: pa.Table,
    index: np.ndarray[Any, Any],
    numbers: np.ndarray[Any, Any],
    layout: Mapping[str, Any],
) -> pa.Table:
    """:func:`full_rows` for draws that share one layout of the variable."""
    spec = layout["data_vars"][name]
    dims = tuple(spec["dims"])
    shape = tuple(int(layout["dims"][dim]) for dim in dims)
    cells = math.prod(shape)
    labels = {dim: _dim_labels(layout, dim) for dim in dims}
    indexes = {dim: pd.Index(values) for dim, values in labels.items() if values is not None}
    where = index * cells + _cell_positions(name, table, dims, shape, indexes)
    _check_unique(name, where)
    sparse = variable_rows(name, spec) == ROWS_NONZERO
    _check_row_count(name, table.num_rows, numbers.size * cells, sparse,
                     f"in {numbers.size} draws of shape {shape}")
    schema = table.schema
    value_dtype = schema.field(VALUE_COLUMN).type.to_pandas_dtype()
    values = np.zeros(numbers.size * cells, dtype=value_dtype)
    values[where] = table.column(VALUE_COLUMN).to_numpy()
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        DRAW_COLUMN: pa.array(np.repeat(numbers, cells)),
    }
    for dim, size, codes in zip(dims, shape, _dense_codes(shape), strict=True):
        axis = labels[dim]
        axis_labels = pa.array(np.arange(size, dtype=np.int64) if axis is None else axis)
        columns[dim] = _repeated(axis_labels.take(pa.array(codes)), numbers.size)
    columns[VALUE_COLUMN] = pa.array(values)
    return pa.table(columns).select(schema.names).cast(schema)


def _dim_labels(layout: Mapping[str, Any], dim: str) -> np.ndarray[Any, Any] | None:
    data = _index_data(layout, dim)
    return None if data is None else jsonvalues.decode_array(data)


def _repeated(block: pa.Array, times: int) -> pa.ChunkedArray:
    """``block`` repeated ``times`` times, the chunks sharing memory."""
    per_chunk = max(1, _CHUNK_ROWS // max(len(block), 1))
    chunk = pa.concat_arrays([block] * min(per_chunk, times)) if times else block.slice(0, 0)
    full, rest = divmod(times, per_chunk)
    chunks = [chunk] * full
    if rest:
        chunks.append(chunk.slice(0, rest * len(block)))
    return pa.chunked_array(chunks, type=block.type)
