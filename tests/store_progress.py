"""Watching a run store from outside the process that writes it (for kill-and-resume tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
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


def start_and_kill(args: list[str], store_dir: Path, log: Path, *, after_draws: int = 2,
                   timeout: float = 240) -> int:
    """Start ``args`` (an ensemble command), SIGKILL its process group once ``after_draws`` are
    done in ``store_dir``; return the done draws then. Its stderr goes to ``log``."""
    with log.open("wb") as sink:
        process = subprocess.Popen(args, start_new_session=True, stdout=subprocess.DEVNULL,
                                   stderr=sink)
        deadline = time.monotonic() + timeout
        while done_draws(store_dir) < after_draws:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no draws finished in time"
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return done_draws(store_dir)
