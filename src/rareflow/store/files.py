"""On-disk layout of result files and the atomic publication of one draw.

```
<root>/results/<run_id>/draw=<n>/<variable>.parquet    published draws (hive-style partition)
<root>/.rareflow-staging/<session>/<run_id>.<n>.<hex>/  a staged draw (see sessions)
```

Each file is a zstd Parquet table as :mod:`rareflow.store.codec` encodes it: one column per
dimension and ``value``, then ``run_id`` and ``draw`` (the same in every row, so a file read on
its own, or many read together, still says which run and draw each row is; draws written before
these columns were added have only the hive-style ``draw=<n>`` folder name). A float variable's
file holds only its non-zero rows.

A draw is written into a fresh folder of its writer's session (:func:`write_staged`, by any
worker process) and, when the writer commits it, moved onto ``draw=<n>`` with one rename
(:func:`publish_staged`) and recorded as done in the metadata database. Readers list files from
the database's done draws, never from the directory alone, so a draw published but not recorded
(a crash in between) stays invisible and is removed by :func:`clean_strays`. Stores before
sessions staged in ``results/<run_id>/.tmp-<uuid>/``; such folders are removed too.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, wait
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rareflow.store.codec import DRAW_COLUMN, RUN_COLUMN, VALUE_COLUMN

RESULTS_DIR = "results"
TEMP_PREFIX = ".tmp-"
DRAW_PREFIX = "draw="
PARQUET_SUFFIX = ".parquet"


def results_root(root: Path) -> Path:
    """Folder holding one sub-folder per run."""
    return root / RESULTS_DIR


def run_dir(root: Path, run_id: str) -> Path:
    """Folder of one run's draws."""
    return results_root(root) / run_id


def draw_dir(root: Path, run_id: str, draw: int) -> Path:
    """Folder of one published draw."""
    return run_dir(root, run_id) / f"{DRAW_PREFIX}{draw}"


def variable_file(root: Path, run_id: str, draw: int, variable: str) -> Path:
    """Parquet file of one variable of one draw."""
    return draw_dir(root, run_id, draw) / f"{variable}{PARQUET_SUFFIX}"


def variable_glob(root: Path, run_id: str, variable: str) -> str:
    """Glob over all published draws of a variable (may include unrecorded draws).

    The files hold the rows as stored: only the non-zero ones for a float variable.
    """
    return str(run_dir(root, run_id) / f"{DRAW_PREFIX}*" / f"{variable}{PARQUET_SUFFIX}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def parquet_bytes(table: pa.Table) -> pa.Buffer:
    """``table`` as the bytes of a zstd Parquet file, in the store's encoding.

    Label columns are dictionary-encoded and ``value`` is not (its values rarely repeat).
    Statistics are kept for ``value`` only: nearly every file holds nearly every label, so
    min/max of the label columns would never let a reader skip a file, and computing them is a
    good part of the cost of writing a small file.
    """
    labels = [name for name in table.column_names if name != VALUE_COLUMN]
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", use_dictionary=labels,
                   write_statistics=[VALUE_COLUMN])
    return sink.getvalue()


def _write_bytes(data: bytes | pa.Buffer, path: Path, *, durable: bool) -> int:
    """Write ``data`` as a new file at ``path``; returns its size in bytes."""
    # One write from memory: cheaper than letting Parquet write the file and reopening it to
    # fsync and stat it.
    with path.open("xb") as handle:
        handle.write(memoryview(data))
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    return len(memoryview(data))


def with_identity(table: pa.Table, run_id: str, draw: int) -> pa.Table:
    """``table`` with ``run_id`` and ``draw`` columns appended (constant, dictionary-encoded)."""
    rows = table.num_rows
    run = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)),
                                         pa.array([run_id]))
    number = pa.array(np.full(rows, draw, dtype=np.int64))
    return table.append_column(RUN_COLUMN, run).append_column(DRAW_COLUMN, number)


def write_staged(
    session: Path, run_id: str, draw: int, tables: Mapping[str, pa.Table], *, durable: bool
) -> tuple[Path, int]:
    """Write ``tables`` as one draw into a new folder of a writer session; returns it and bytes.

    Each file gets the ``run_id`` and ``draw`` columns (:func:`with_identity`).
    The session folder must exist (it is not created: a writer whose session was removed as
    abandoned cannot write into it). Nothing under ``results/`` is touched; the draw is
    published by :func:`publish_staged` when the writer commits it.
    """
    return write_staged_bytes(session, run_id, draw, draw_blobs(tables, run_id, draw),
                              durable=durable)


def draw_blobs(tables: Mapping[str, pa.Table], run_id: str, draw: int) -> dict[str, pa.Buffer]:
    """One draw's tables as the bytes of its Parquet files, with ``run_id`` and ``draw``."""
    return {name: parquet_bytes(with_identity(table, run_id, draw))
            for name, table in tables.items()}


def write_staged_bytes(
    session: Path, run_id: str, draw: int, blobs: Mapping[str, bytes | pa.Buffer], *,
    durable: bool, executor: Executor | None = None,
) -> tuple[Path, int]:
    """Write one draw's Parquet files, given as bytes per variable, like :func:`write_staged`.

    With an ``executor`` the files are written (and fsynced) by its threads in parallel: one
    process writing every draw of an ensemble waits on a few milliseconds of fsync per file,
    and the filesystem's journal commits parallel fsyncs together.
    """
    folder = session / f"{run_id}.{draw}.{uuid.uuid4().hex}"
    folder.mkdir()
    try:
        items = [(data, folder / f"{name}{PARQUET_SUFFIX}") for name, data in blobs.items()]
        if executor is None:
            n_bytes = sum(_write_bytes(data, path, durable=durable) for data, path in items)
        else:
            writes = [executor.submit(_write_bytes, data, path, durable=durable)
                      for data, path in items]
            wait(writes)  # all finished before a failure removes the folder
            n_bytes = sum(write.result() for write in writes)
        if durable:
            _fsync_dir(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, n_bytes


def publish_staged(root: Path, run_id: str, draw: int, staged: Path, *, durable: bool) -> None:
    """Move a staged draw folder onto ``draw=<n>`` (one rename: all files or none).

    Call only while holding the writer lock and after checking in the database that the draw
    is not done: only this step, under that lock, puts folders there, so an existing
    ``draw=<n>`` of a draw not done is debris of a failed commit and is replaced.
    """
    parent = run_dir(root, run_id)
    new_parent = not parent.is_dir()
    parent.mkdir(parents=True, exist_ok=True)
    final = draw_dir(root, run_id, draw)
    if final.exists():
        shutil.rmtree(final)
    os.rename(staged, final)
    if durable:
        _fsync_dir(parent)
        if new_parent:
            _fsync_dir(results_root(root))


def remove_draw(root: Path, run_id: str, draw: int) -> None:
    """Remove a published draw folder if present."""
    shutil.rmtree(draw_dir(root, run_id, draw), ignore_errors=True)


def remove_run(root: Path, run_id: str) -> None:
    """Remove all files of a run."""
    shutil.rmtree(run_dir(root, run_id), ignore_errors=True)


def clean_strays(
    root: Path,
    known_runs: Iterable[str],
    done_draws: Callable[[str], set[int]],
    deleted_runs: Iterable[str] = (),
) -> list[Path]:
    """Remove what failed writes and deletions left; returns the removed paths.

    Removes the folders of ``deleted_runs`` (runs whose rows were deleted, recorded by the
    database until their files are gone), and inside the folders of ``known_runs`` the
    legacy ``.tmp-*`` folders and the ``draw=<n>`` folders of draws not done (debris of a
    failed commit). Anything else -- folders of runs the database does not know, files of
    other names -- is never touched. Call only while holding the writer lock.
    """
    base = results_root(root)
    if not base.is_dir():
        return []
    removed: list[Path] = []
    for run_id in sorted(set(deleted_runs)):
        folder = run_dir(root, run_id)
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    for run_id in sorted(set(known_runs)):
        folder = run_dir(root, run_id)
        if not folder.is_dir():
            continue
        done = done_draws(run_id)
        for child in sorted(folder.iterdir()):
            if child.name.startswith(TEMP_PREFIX):
                stray = True
            elif child.name.startswith(DRAW_PREFIX):
                number = child.name[len(DRAW_PREFIX) :]
                stray = number.isdigit() and int(number) not in done
            else:
                stray = False
            if stray and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child)
    return removed
