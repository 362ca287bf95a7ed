"""rareflow.store: the embedded run store (DuckDB metadata, Parquet results).

>>> store = RunStore(Path("rareflow-runs"))
>>> run = store.find_run(**spec) or store.create_run(**spec)
>>> for draw in sorted(set(range(run.n_draws)) - store.completed_draws(run.run_id)):
...     store.write_draw(run.run_id, draw, simulate_draw(draw))
>>> store.load_variable(run.run_id, "price")   # tidy DataFrame across draws, every cell

Files are tidy Parquet tables (one per variable and draw); a float variable's files hold only
its non-zero rows, which ``load_result`` and ``load_variable`` restore and ``query`` does not.
"""

from rareflow.store.errors import (
    AmbiguousRunError,
    CorruptStoreError,
    DrawNotFoundError,
    DrawStateError,
    RunNotFoundError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
    UnsupportedDatasetError,
    VariableNotFoundError,
)
from rareflow.store.runs import RunInfo
from rareflow.store.staging import DrawFiles, StagedDraw, encode_draw_files, stage_draw
from rareflow.store.store import DEFAULT_ROOT, RunStore

__all__ = [
    "DEFAULT_ROOT",
    "AmbiguousRunError",
    "CorruptStoreError",
    "DrawFiles",
    "DrawNotFoundError",
    "DrawStateError",
    "RunInfo",
    "RunNotFoundError",
    "RunStore",
    "StagedDraw",
    "StoreError",
    "StoreLockedError",
    "StoreReadOnlyError",
    "UnsupportedDatasetError",
    "VariableNotFoundError",
    "encode_draw_files",
    "stage_draw",
]
