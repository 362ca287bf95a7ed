"""Draw files written outside the store's database, then committed by the process that owns it.

Ensemble workers run in other processes: each one encodes and publishes its draws' Parquet files
itself (:func:`stage_draw`, no database access, so workers write in parallel) and hands back a
small :class:`StagedDraw`; the driver records a batch of them as done in one transaction with
:meth:`rareflow.store.RunStore.commit_staged`. Until that commit the files are invisible to
readers, and a store opened after a crash removes them as strays.
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
    """A draw whose files are published but not yet recorded in the database."""

    run_id: str
    draw: int
    layout_id: str
    layout_text: str
    attrs: dict[str, Any]
    n_bytes: int


def stage_draw(
    root: Path | str, run_id: str, draw: int, result: xr.Dataset, *, durable: bool = True
) -> StagedDraw:
    """Validate, encode and publish the files of one draw; return what the commit needs.

    ``run_id`` must be the run's full id. Raises before writing anything if the Dataset
    cannot be stored.
    """
    return stage_encoded(root, run_id, draw, encode_dataset(result), durable=durable)


def stage_encoded(
    root: Path | str, run_id: str, draw: int, encoded: EncodedDataset, *, durable: bool = True
) -> StagedDraw:
    """Publish the files of an already encoded draw (see :func:`stage_draw`)."""
    n_bytes = files.publish_draw(Path(root), run_id, draw, encoded.tables, durable=durable)
    return StagedDraw(run_id, int(draw), encoded.layout_id, encoded.layout_text,
                      encoded.attrs, n_bytes)
