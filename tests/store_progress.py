"""Watching a run store from outside the process that writes it (for kill-and-resume tests)."""

from __future__ import annotations

from pathlib import Path

from rareflow.store import RunStore


def done_draws(store_dir: Path) -> int:
    """Done draws of the store's only run (0 while it is missing or its writer holds it)."""
    if not (store_dir / "runs.duckdb").exists():
        return 0
    try:
        with RunStore(store_dir, read_only=True, lock_timeout=1) as store:
            runs = store.list_runs()
            return runs[0].n_done if runs else 0
    except Exception:  # the writer holds the database for a moment
        return 0
