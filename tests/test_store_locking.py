"""Concurrency: readers alongside a writer process, and clear errors when the store is held."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rareflow.store import RunStore, StoreLockedError
from rareflow.testing import synthetic_result

HOLD_DATABASE = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])   # read-write: excludes every other process
    print("holding", flush=True)
    sys.stdin.readline()
    con.close()
    """
)

HOLD_WRITER_LOCK = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from rareflow.store.locking import writer_lock
    with writer_lock(Path(sys.argv[1]), timeout=5):
        print("holding", flush=True)
        sys.stdin.readline()
    """
)

WRITE_DRAWS = textwrap.dedent(
    """
    import sys
    from rareflow.store import RunStore
    from rareflow.testing import synthetic_result
    store = RunStore(sys.argv[1], durable=False)
    for draw in range(int(sys.argv[3])):
        store.write_draw(sys.argv[2], draw, synthetic_result(draw))
    """
)


def _holder(script: str, arg: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(arg)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "holding"
    return child


def _release(child: subprocess.Popen[str]) -> None:
    child.communicate("\n")
    assert child.returncode == 0


def test_a_held_database_gives_a_clear_error_then_recovers(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False, lock_timeout=0.2)
    run = store.create_run("single", "b", "t", "d", "c", 1, 1)
    child = _holder(HOLD_DATABASE, tmp_path / "runs.duckdb")
    try:
        with pytest.raises(StoreLockedError, match="locked by another process") as info:
            store.list_runs()
        assert "runs.duckdb" in str(info.value)
        with pytest.raises(StoreLockedError):
            store.write_draw(run.run_id, 0, synthetic_result(0))
    finally:
        _release(child)
    # nothing half-written: the draw failed before its commit and left no folder
    assert store.completed_draws(run.run_id) == set()
    assert not (tmp_path / "results" / run.run_id / "draw=0").exists()
    store.write_draw(run.run_id, 0, synthetic_result(0))
    assert store.completed_draws(run.run_id) == {0}


def test_a_second_writer_is_told_who_holds_the_store(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False, lock_timeout=0.2)
    run = store.create_run("single", "b", "t", "d", "c", 1, 1)
    child = _holder(HOLD_WRITER_LOCK, tmp_path)
    try:
        with pytest.raises(StoreLockedError, match=f"pid {child.pid}"):
            store.write_draw(run.run_id, 0, synthetic_result(0))
        # reading needs no writer lock
        assert store.get_run(run.run_id).n_done == 0
        assert RunStore(tmp_path, read_only=True).list_runs()[0].run_id == run.run_id
    finally:
        _release(child)
    store.write_draw(run.run_id, 0, synthetic_result(0))


def test_readers_work_while_another_process_writes(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    n_draws = 40
    run = store.create_run("ensemble", "b", "t", "d", "c", 1, n_draws)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITE_DRAWS, str(tmp_path), run.run_id, str(n_draws)],
        stderr=subprocess.PIPE,
        text=True,
    )
    reader = RunStore(tmp_path, read_only=True)
    seen: list[int] = []
    while writer.poll() is None:
        done = reader.completed_draws(run.run_id)
        seen.append(len(done))
        if done:
            frame = reader.load_variable(run.run_id, "surplus")
            assert set(frame["draw"]) >= done  # never a draw with missing files
    _, err = writer.communicate()
    assert writer.returncode == 0, err
    assert seen == sorted(seen)  # progress only moves forward
    assert reader.completed_draws(run.run_id) == set(range(n_draws))
