"""Draw files written outside the store's database, then committed by the process that owns it.

A draw is staged in the writer's session folder (:attr:`rareflow.store.RunStore.staging_dir`),
described by a small :class:`StagedDraw`, and then moved into ``results/`` and recorded as done
with :meth:`rareflow.store.RunStore.commit_staged`. Nothing under ``results/`` is touched before
that commit, so a committed draw is never replaced and another process opening the store never
sees (or removes) a staged draw of a live writer.

Ensemble workers that share no filesystem with the driver encode a draw into its Parquet files
*in memory* (:func:`encode_draw_files`, the costly part: xarray to Arrow, zstd) and send the
:class:`DrawFiles` back; the driver only writes those bytes into its session folder
(:func:`stage_files`). A process that sees the store's folder can also stage its draws there
itself (:func:`stage_draw`).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import xarray as xr

from rareflow.store import files
from rareflow.store.codec import EncodedDataset, encode_dataset


@dataclass(frozen=True)
class StagedDraw:
    """A draw whose files are staged in a writer session but not yet committed."""

    run_id: str
    draw: int
    layout_id: str
    layout_text: str
    attrs: dict[str, Any]
    n_bytes: int
    folder: str


def stage_draw(
    staging_dir: Path | str, run_id: str, draw: int, result: xr.Dataset, *, durable: bool = True
) -> StagedDraw:
    """Validate, encode and stage the files of one draw; return what the commit needs.

    ``staging_dir`` is the writer's session folder (``RunStore.staging_dir``) and ``run_id``
    the run's full id. Raises before writing anything if the Dataset cannot be stored.
    """
    return stage_encoded(staging_dir, run_id, draw, encode_dataset(result), durable=durable)


def stage_encoded(
    staging_dir: Path | str,
    run_id: str,
    draw: int,
    encoded: EncodedDataset,
    *,
    durable: bool = True,
) -> StagedDraw:
    """Stage the files of an already encoded draw (see :func:`stage_draw`)."""
    folder, n_bytes = files.write_staged(Path(staging_dir), run_id, int(draw), encoded.tables,
                                         durable=durable)
    return StagedDraw(run_id, int(draw), encoded.layout_id, encoded.layout_text,
                      encoded.attrs, n_bytes, str(folder))


@dataclass(frozen=True)
class DrawFiles:
    """One draw encoded for the store, in memory: its Parquet files as bytes per variable.

    Compact (zstd Parquet, float variables without their zero rows) and picklable, so a worker
    on another machine can hand it to the process that owns the store.
    """

    run_id: str
    draw: int
    layout_id: str
    layout_text: str
    attrs: dict[str, Any]
    blobs: dict[str, pa.Buffer]

    @property
    def n_bytes(self) -> int:
        """Total size of the draw's files."""
        return sum(blob.size for blob in self.blobs.values())


def encode_draw_files(run_id: str, draw: int, result: xr.Dataset) -> DrawFiles:
    """Validate and encode one draw into its Parquet files in memory (nothing is written)."""
    encoded = encode_dataset(result)
    blobs = files.draw_blobs(encoded.tables, run_id, int(draw))
    return DrawFiles(run_id, int(draw), encoded.layout_id, encoded.layout_text, encoded.attrs,
                     blobs)


def stage_files(staging_dir: Path | str, drawn: DrawFiles, *, durable: bool = True,
                executor: Executor | None = None) -> StagedDraw:
    """Write the files of an encoded draw into the writer session ``staging_dir``.

    ``executor``: threads that write the files in parallel (see
    :func:`rareflow.store.files.write_staged_bytes`).
    """
    folder, n_bytes = files.write_staged_bytes(Path(staging_dir), drawn.run_id, drawn.draw,
                                               drawn.blobs, durable=durable, executor=executor)
    return StagedDraw(drawn.run_id, drawn.draw, drawn.layout_id, drawn.layout_text,
                      drawn.attrs, n_bytes, str(folder))
