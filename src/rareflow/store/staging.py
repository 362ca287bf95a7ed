"""Draw files written outside the store's database, then committed by the process that owns it.

Ensemble workers run in other processes: each one encodes and writes its draws' Parquet files
itself into the driver's writer session folder (:func:`stage_draw`, no database access, so
workers write in parallel; the folder is :attr:`rareflow.store.RunStore.staging_dir`) and hands
back a small :class:`StagedDraw`; the driver moves a batch of them into ``results/`` and records
them as done with :meth:`rareflow.store.RunStore.commit_staged`. Nothing under ``results/`` is
touched before that commit, so a committed draw is never replaced and another process opening
the store never sees (or removes) a staged draw of a live writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
