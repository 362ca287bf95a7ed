"""On-disk layout of result files and the atomic publication of one draw.

```
<root>/results/<run_id>/draw=<n>/<variable>.parquet    published draws (hive-style partition)
<root>/results/<run_id>/.tmp-<uuid>/                   a draw being written (never read)
```

Each file is a zstd Parquet table as :mod:`rareflow.store.codec` encodes it: one column per
dimension and ``value``; a float variable's file holds only its non-zero rows.

A draw is written into a fresh ``.tmp-*`` directory and published with one ``os.replace`` of
that directory onto ``draw=<n>``; only then is it recorded as done in the metadata database.
Readers list files from the database's done draws, never from the directory alone, so a draw
published but not recorded (a crash in between) stays invisible and is removed by
:func:`clean_strays`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from rareflow.store.codec import VALUE_COLUMN

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


def _write_parquet(table: pa.Table, path: Path, *, durable: bool) -> int:
    """Write ``table`` as a new zstd Parquet file; returns its size in bytes.

    Label columns are dictionary-encoded and ``value`` is not (its values rarely repeat).
    Statistics are kept for ``value`` only: nearly every file holds nearly every label, so
    min/max of the label columns would never let a reader skip a file, and computing them is a
    good part of the cost of writing a small file.
    """
    labels = [name for name in table.column_names if name != VALUE_COLUMN]
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", use_dictionary=labels,
                   write_statistics=[VALUE_COLUMN])
    data = sink.getvalue()
    # One write from memory: cheaper than letting Parquet write the file and reopening it to
    # fsync and stat it.
    with path.open("xb") as handle:
        handle.write(memoryview(data))
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    return int(data.size)


def publish_draw(
    root: Path, run_id: str, draw: int, tables: Mapping[str, pa.Table], *, durable: bool
) -> int:
    """Write ``tables`` as the files of one draw, atomically; returns the bytes written.

    The files appear under ``draw=<n>`` all at once or not at all. An existing ``draw=<n>``
    folder (left by a crash before its commit) is replaced. With ``durable`` the files and
    folders are fsynced so that a power loss after the metadata commit cannot lose them.
    """
    parent = run_dir(root, run_id)
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
    staging.mkdir()
    final = draw_dir(root, run_id, draw)
    try:
        n_bytes = 0
        for name, table in tables.items():
            n_bytes += _write_parquet(table, staging / f"{name}{PARQUET_SUFFIX}", durable=durable)
        if durable:
            _fsync_dir(staging)
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
        if durable:
            _fsync_dir(parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return n_bytes


def remove_draw(root: Path, run_id: str, draw: int) -> None:
    """Remove a published draw folder if present."""
    shutil.rmtree(draw_dir(root, run_id, draw), ignore_errors=True)


def remove_run(root: Path, run_id: str) -> None:
    """Remove all files of a run."""
    shutil.rmtree(run_dir(root, run_id), ignore_errors=True)


def clean_strays(
    root: Path, known_runs: Iterable[str], done_draws: Callable[[str], set[int]]
) -> list[Path]:
    """Remove staging folders, folders of unknown runs and published-but-unrecorded draws.

    Must be called only while holding the writer lock (no write can be in flight). Returns
    the removed paths.
    """
    base = results_root(root)
    if not base.is_dir():
        return []
    known = set(known_runs)
    removed: list[Path] = []
    for entry in sorted(base.iterdir()):
        if not entry.is_dir():
            continue
        if entry.name not in known:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
            continue
        done = done_draws(entry.name)
        for child in sorted(entry.iterdir()):
            if child.name.startswith(TEMP_PREFIX):
                stray = True
            elif child.name.startswith(DRAW_PREFIX):
                number = child.name[len(DRAW_PREFIX) :]
                stray = not number.isdigit() or int(number) not in done
            else:
                stray = False
            if stray:
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
                removed.append(child)
    return removed
