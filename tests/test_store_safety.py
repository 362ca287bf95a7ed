"""Nothing lost (issue #15, "Data loss" 1-5): the store deletes only what it can prove it wrote.

Each test reproduces a fault of the store before writer sessions: it failed there and passes now.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import xarray as xr
from click.testing import CliRunner

from rareflow.cli import main
from rareflow.store import RunStore, StoreError, files, stage_draw
from rareflow.store.errors import ForeignFolderError, MissingDatabaseError
from rareflow.store.metadata import MetadataDB
from rareflow.store.ownership import MARKER_FILE
from rareflow.store.store import RunStore as StoreClass
from rareflow.testing import synthetic_result

N_DRAWS = 4


def _child(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args],
                          capture_output=True, text=True, check=False)


def _assert_consistent(root: Path, run_id: str) -> set[int]:
    """Every done draw loads exactly; no folder of a draw not done is left after a cleanup."""
    with RunStore(root, durable=False) as store:
        done = store.completed_draws(run_id)
        for draw in done:
            xr.testing.assert_identical(store.load_result(run_id, draw), synthetic_result(draw))
        folders = {p.name for p in files.run_dir(root, run_id).glob("draw=*")}
        assert folders == {f"draw={d}" for d in done}
    return done


# -- 1. a store opened on an existing folder never deletes the user's files -------------------


def test_foreign_results_folder_is_refused_and_kept(tmp_path: Path) -> None:
    thesis = tmp_path / "results" / "thesis"
    thesis.mkdir(parents=True)
    (thesis / "fig1.csv").write_text("keep")
    with pytest.raises(ForeignFolderError, match="results"):
        RunStore(tmp_path, durable=False)
    assert (thesis / "fig1.csv").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # nothing created


def test_a_run_into_a_refused_folder_fails_before_simulating(tmp_path: Path) -> None:
    from rareflow.runs import run_scenario

    (tmp_path / "results" / "thesis").mkdir(parents=True)
    (tmp_path / "results" / "thesis" / "fig1.csv").write_text("keep")
    simulated: list[int] = []
    with pytest.raises(ForeignFolderError):
        run_scenario("baseline", years=range(2024, 2026), store_dir=tmp_path,
                     progress=simulated.append)
    assert simulated == []  # refused up front, not after the simulation
    assert (tmp_path / "results" / "thesis" / "fig1.csv").read_text() == "keep"


def test_lost_database_is_refused_and_nothing_deleted(tmp_path: Path) -> None:
    with RunStore(tmp_path, durable=False) as store:
        run = store.create_run("single", "b", "t", "d", "c", 1, 1)
        store.write_draw(run.run_id, 0, synthetic_result(0))
    assert (tmp_path / MARKER_FILE).exists()
    (tmp_path / "runs.duckdb").unlink()
    with pytest.raises(MissingDatabaseError, match="lost its database") as caught:
        RunStore(tmp_path, durable=False)
    assert str(tmp_path) in str(caught.value) and "backup" in str(caught.value)
    assert (files.draw_dir(tmp_path, run.run_id, 0) / "production.parquet").exists()
    assert not (tmp_path / "runs.duckdb").exists()


def test_store_made_before_markers_is_adopted(tmp_path: Path) -> None:
    with RunStore(tmp_path, durable=False) as store:
        run = store.create_run("single", "b", "t", "d", "c", 1, 1)
        store.write_draw(run.run_id, 0, synthetic_result(0))
    (tmp_path / MARKER_FILE).unlink()
    with RunStore(tmp_path, durable=False) as store:
        assert store.completed_draws(run.run_id) == {0}
    assert (tmp_path / MARKER_FILE).exists()


def test_unknown_folders_under_results_are_never_removed(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    (tmp_path / "results" / "thesis").mkdir(parents=True)
    (tmp_path / "results" / "0123456789ab" / "draw=0").mkdir(parents=True)
    store.cleanup()
    RunStore(tmp_path, durable=False).close()
    assert (tmp_path / "results" / "thesis").is_dir()
    assert (tmp_path / "results" / "0123456789ab" / "draw=0").is_dir()


# -- 2. a failed commit leaves each draw complete or absent ------------------------------------


@contextlib.contextmanager
def _tiny_tmpfs(size: str) -> Iterator[Path]:
    mount = Path(tempfile.mkdtemp(prefix="rareflow-tmpfs-"))
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                               str(mount)], capture_output=True, check=False)
        if done.returncode != 0:
            pytest.skip("cannot mount a tmpfs here (needs root)")
        try:
            yield mount
        finally:
            subprocess.run(["umount", str(mount)], check=False)
    finally:
        mount.rmdir()


@pytest.mark.parametrize("free_kb", [300, 1000, 1500])
def test_disk_full_never_leaves_a_done_draw_without_files(free_kb: int) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    with _tiny_tmpfs("4m") as mount:
        root = mount / "store"
        store = RunStore(root, durable=False)
        run = store.create_run("ensemble", "b", "t", "d", "c", 1, 200)
        stat = os.statvfs(mount)
        filler = mount / "filler"
        filler.write_bytes(b"\0" * max(0, stat.f_bavail * stat.f_frsize - free_kb * 1024))
        with pytest.raises((OSError, duckdb.Error, StoreError)):
            for draw in range(200):
                store.write_draw(run.run_id, draw, synthetic_result(draw))
        store.close()
        filler.unlink()
        done = _assert_consistent(root, run.run_id)
        assert done == set(range(len(done)))


class _Injected(Exception):
    """The fault a test injects."""


def _fail_once(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
    real = getattr(owner, name)
    state = {"armed": True}

    def failing(*args: Any, **kwargs: Any) -> Any:
        if not state["armed"]:
            return real(*args, **kwargs)
        state["armed"] = False
        raise _Injected(f"injected failure in {name}")

    monkeypatch.setattr(owner, name, failing)


def _fail_checkpoint(monkeypatch: pytest.MonkeyPatch, *, stuck: bool) -> None:
    """After the commit, DETACH detaches but raises, as DuckDB does when its checkpoint fails."""
    real_commit, real_detach = MetadataDB._commit, MetadataDB._detach
    state = {"armed": False}

    def commit(self: MetadataDB, con: duckdb.DuckDBPyConnection) -> None:
        real_commit(self, con)
        state["armed"] = True

    def detach(self: MetadataDB, con: duckdb.DuckDBPyConnection) -> None:
        real_detach(self, con)
        if state["armed"]:
            state["armed"] = stuck
            raise _Injected("CHECKPOINT during DETACH failed (injected)")

    monkeypatch.setattr(MetadataDB, "_commit", commit)
    monkeypatch.setattr(MetadataDB, "_detach", detach)


# where the fault is: patched owner and name, or a checkpoint fault (stuck or not)
FAULTS: dict[str, tuple[Any, str] | bool] = {
    "staging": (files, "write_staged"),
    "publish": (files, "publish_staged"),
    "insert": (StoreClass, "_insert_done"),
    "commit": (MetadataDB, "_commit"),
    # the commit reached the WAL, the checkpoint at DETACH failed (disk full)
    "checkpoint": False,
    # ... and every later DETACH fails too, so the store cannot tell what it committed
    "checkpoint-stuck": True,
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_failure_at_each_commit_step_leaves_a_complete_draw_or_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    where = FAULTS[fault]
    store = RunStore(tmp_path, durable=True)
    run = store.create_run("ensemble", "b", "t", "d", "c", 1, 2)
    store.write_draw(run.run_id, 0, synthetic_result(0))
    with monkeypatch.context() as patch:
        if isinstance(where, bool):
            _fail_checkpoint(patch, stuck=where)
        else:
            _fail_once(patch, *where)
        with pytest.raises(_Injected):
            store.write_draw(run.run_id, 1, synthetic_result(1))
    store.close()
    done = _assert_consistent(tmp_path, run.run_id)
    assert done == ({0, 1} if isinstance(where, bool) else {0})
    assert not list((tmp_path / ".rareflow-staging").glob("*/*.1.*"))  # no staged debris


# -- 3. opening the store never touches another writer's in-flight draws -----------------------


def test_opening_the_store_keeps_a_live_writers_staged_draws(tmp_path: Path) -> None:
    driver = RunStore(tmp_path, durable=False)
    run = driver.create_run("ensemble", "b", "t", "d", "c", 1, 3)
    staged = stage_draw(driver.staging_dir, run.run_id, 1, synthetic_result(1), durable=False)
    other = RunStore(tmp_path, durable=False)  # e.g. `rareflow runs delete` meanwhile
    other.cleanup()
    other.prune()
    other.close()
    assert driver.commit_staged(run.run_id, [staged]) == [1]
    xr.testing.assert_identical(driver.load_result(run.run_id, 1), synthetic_result(1))


KILLED_DRIVER = """
    import os, sys
    from rareflow.store import RunStore, stage_draw
    from rareflow.testing import synthetic_result
    store = RunStore(sys.argv[1], durable=False)
    stage_draw(store.staging_dir, sys.argv[2], 1, synthetic_result(1), durable=False)
    print(store.staging_dir, flush=True)
    os._exit(9)
"""


def test_a_dead_writers_staged_draws_are_removed(tmp_path: Path) -> None:
    store = RunStore(tmp_path, durable=False)
    run = store.create_run("ensemble", "b", "t", "d", "c", 1, 3)
    child = _child(KILLED_DRIVER, str(tmp_path), run.run_id)
    assert child.returncode == 9, child.stderr
    session = Path(child.stdout.strip())
    assert session.is_dir()
    store.cleanup()
    assert not session.exists()
    assert not session.with_name(session.name + ".lock").exists()
    assert store.staging_dir.is_dir()  # its own session stays
    assert store.get_run(run.run_id).n_done == 0  # an ensemble is kept, to be resumed


# -- 4. a committed draw is never replaced -----------------------------------------------------


def test_a_committed_draw_is_never_replaced(tmp_path: Path) -> None:
    first = RunStore(tmp_path, durable=False)
    second = RunStore(tmp_path, durable=False)  # an identical ensemble started alongside
    run = first.create_run("ensemble", "b", "t", "d", "c", 1, 2)
    mine = stage_draw(first.staging_dir, run.run_id, 0, synthetic_result(0), durable=False)
    theirs = stage_draw(second.staging_dir, run.run_id, 0, synthetic_result(9), durable=False)
    assert first.commit_staged(run.run_id, [mine]) == [0]
    assert second.commit_staged(run.run_id, [theirs]) == []  # skipped, not an error
    assert not Path(theirs.folder).exists()  # its copy is discarded
    xr.testing.assert_identical(first.load_result(run.run_id, 0), synthetic_result(0))
    assert first.completed_draws(run.run_id) == {0}


# -- 5. a killed single run does not stay "incomplete 0/1" forever -----------------------------


KILLED_SINGLE = """
    import os, sys
    from rareflow.store import RunStore
    store = RunStore(sys.argv[1], durable=False)
    print(store.create_run("single", "b", "t", "d", "c", 1, 1).run_id, flush=True)
    os._exit(9)
"""


def test_a_killed_single_run_is_removed_on_next_open(tmp_path: Path) -> None:
    RunStore(tmp_path, durable=False).close()
    child = _child(KILLED_SINGLE, str(tmp_path))
    assert child.returncode == 9, child.stderr
    assert [r.run_id for r in RunStore(tmp_path, read_only=True).list_runs()] == [
        child.stdout.strip()]
    with RunStore(tmp_path, durable=False) as store:
        assert store.list_runs() == []
    assert not (tmp_path / "results" / child.stdout.strip()).exists()


def test_runs_prune_removes_empty_single_runs_only(tmp_path: Path) -> None:
    with RunStore(tmp_path, durable=False) as store:  # closed normally: its session is gone
        empty = store.create_run("single", "b", "t", "d", "c", 1, 1)
        full = store.create_run("single", "b", "t", "d", "c", 2, 1)
        store.write_draw(full.run_id, 0, synthetic_result(0))
        ensemble = store.create_run("ensemble", "b", "t", "d", "c", 1, 3)
    live = RunStore(tmp_path, durable=False)
    in_progress = live.create_run("single", "b", "t", "d", "c", 3, 1)  # its writer lives
    result = CliRunner().invoke(main, ["runs", "prune", "--store", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"deleted": [empty.run_id]}
    remaining = {r.run_id for r in live.list_runs()}
    assert remaining == {full.run_id, ensemble.run_id, in_progress.run_id}
    result = CliRunner().invoke(main, ["runs", "prune", "--store", str(tmp_path)])
    assert result.exit_code == 0 and "Nothing to prune" in result.output
