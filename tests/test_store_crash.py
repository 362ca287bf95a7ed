"""Crash atomicity: a draw is visible only once committed; debris is cleaned on open.

Crashes are real: a child process dies (``os._exit`` at a chosen point, or ``SIGKILL`` at an
arbitrary one) and the parent inspects the store with a fresh process-level view.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
import xarray as xr

from rareflow.store import RunStore
from rareflow.testing import synthetic_result

CRASH_AFTER_PUBLISH = textwrap.dedent(
    """
    import os, sys
    import rareflow.store.files as files
    from rareflow.store import RunStore
    from rareflow.testing import synthetic_result

    real_publish = files.publish_staged

    def publish_then_die(*args, **kwargs):
        real_publish(*args, **kwargs)  # the Parquet files are in place under draw=<n> ...
        os._exit(17)                   # ... and the process dies before the DuckDB commit

    files.publish_staged = publish_then_die
    store = RunStore(sys.argv[1])
    store.write_draw(sys.argv[2], int(sys.argv[3]), synthetic_result(int(sys.argv[3])))
    """
)

WRITE_FOREVER = textwrap.dedent(
    """
    import sys
    from rareflow.store import RunStore
    from rareflow.testing import synthetic_result

    store = RunStore(sys.argv[1])
    run_id = sys.argv[2]
    for draw in range(int(sys.argv[3])):
        store.write_draw(run_id, draw, synthetic_result(draw))
        print(draw, flush=True)
    """
)


def _child(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _draw_dirs(root: Path, run_id: str) -> set[str]:
    return {p.name for p in (root / "results" / run_id).iterdir()}


def test_crash_between_parquet_and_commit_leaves_no_visible_draw(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    run = store.create_run("ensemble", "b", "t", "d", "c", 1, 3)
    store.write_draw(run.run_id, 0, synthetic_result(0))

    child = _child(CRASH_AFTER_PUBLISH, str(tmp_path), run.run_id, "1")
    _, err = child.communicate()
    assert child.returncode == 17, err
    # the files were published, but the draw was never committed
    assert (tmp_path / "results" / run.run_id / "draw=1" / "production.parquet").exists()

    reader = RunStore(tmp_path, read_only=True)
    assert reader.completed_draws(run.run_id) == {0}
    assert reader.get_run(run.run_id).n_done == 1
    assert reader.load_variable(run.run_id, "surplus")["draw"].unique().tolist() == [0]
    assert list(reader.load_result(run.run_id)["draw"].values) == [0]
    assert (tmp_path / "results" / run.run_id / "draw=1").exists()  # readers never clean

    reopened = RunStore(tmp_path, durable=False)  # a writable open cleans the debris
    assert _draw_dirs(tmp_path, run.run_id) == {"draw=0"}
    # the draw is simply redone
    reopened.write_draw(run.run_id, 1, synthetic_result(1))
    xr.testing.assert_identical(reopened.load_result(run.run_id, 1), synthetic_result(1))


def test_redo_over_an_unrecorded_folder_replaces_it(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    run = store.create_run("ensemble", "b", "t", "d", "c", 1, 2)
    child = _child(CRASH_AFTER_PUBLISH, str(tmp_path), run.run_id, "1")
    child.communicate()
    assert child.returncode == 17
    # the same process keeps writing without reopening: the stale folder is replaced
    store.write_draw(run.run_id, 1, synthetic_result(5))
    xr.testing.assert_identical(store.load_result(run.run_id, 1), synthetic_result(5))


@pytest.mark.parametrize("wait_for", [1, 4])
def test_killed_writer_leaves_a_consistent_store(tmp_path: Path, wait_for: int) -> None:
    store = RunStore(tmp_path, durable=False)
    n_draws = 50
    run = store.create_run("ensemble", "b", "t", "d", "c", 1, n_draws)
    child = _child(WRITE_FOREVER, str(tmp_path), run.run_id, str(n_draws))
    assert child.stdout is not None
    reported = [int(child.stdout.readline()) for _ in range(wait_for)]
    os.kill(child.pid, signal.SIGKILL)  # somewhere inside a later write
    child.communicate()
    assert child.returncode == -signal.SIGKILL

    reopened = RunStore(tmp_path, durable=False)
    done = reopened.completed_draws(run.run_id)
    assert set(reported) <= done
    assert done == set(range(len(done)))  # draws were written in order
    # only committed draws have folders; no staging folders survive the reopen
    assert _draw_dirs(tmp_path, run.run_id) == {f"draw={d}" for d in done}
    for draw in done:
        xr.testing.assert_identical(reopened.load_result(run.run_id, draw),
                                    synthetic_result(draw))
    # resume: finish the run
    for draw in sorted(set(range(n_draws)) - done):
        reopened.write_draw(run.run_id, draw, synthetic_result(draw))
    assert reopened.get_run(run.run_id).status == "complete"


def test_stray_files_are_cleaned_on_open(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    run = store.create_run("ensemble", "b", "t", "d", "c", 1, 2)
    store.write_draw(run.run_id, 0, synthetic_result(0))
    run_dir = tmp_path / "results" / run.run_id
    (run_dir / ".tmp-deadbeef").mkdir()
    (run_dir / ".tmp-deadbeef" / "production.parquet").write_bytes(b"partial")
    (run_dir / "draw=1").mkdir()
    deleted = store.create_run("ensemble", "b", "t", "d", "c", 2, 1)
    store.write_draw(deleted.run_id, 0, synthetic_result(0))
    orphan = tmp_path / "results" / deleted.run_id  # files of a run whose rows were deleted
    shutil.copytree(orphan, tmp_path / "kept")
    store.delete_run(deleted.run_id)
    shutil.copytree(tmp_path / "kept", orphan)  # as if the process died before removing them
    with duckdb.connect(str(tmp_path / "runs.duckdb")) as con:
        con.execute("INSERT INTO deleted_runs VALUES (?)", [deleted.run_id])
    unknown = tmp_path / "results" / "0123456789ab"  # not a run this store knows: not ours
    (unknown / "draw=0").mkdir(parents=True)
    (run_dir / "notes.txt").write_text("user file, not ours")

    removed = RunStore(tmp_path, durable=False).cleanup()
    assert removed == []  # opening already cleaned everything
    assert _draw_dirs(tmp_path, run.run_id) == {"draw=0", "notes.txt"}
    assert not orphan.exists()
    assert (unknown / "draw=0").is_dir()  # only what the store can prove it wrote is removed
    xr.testing.assert_identical(store.load_result(run.run_id, 0), synthetic_result(0))


def test_durable_writes_round_trip(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=True)
    run = store.create_run("single", "b", "t", "d", "c", 1, 1)
    store.write_draw(run.run_id, 0, synthetic_result(0))
    xr.testing.assert_identical(store.load_result(run.run_id), synthetic_result(0))
