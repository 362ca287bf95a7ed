"""Ensembles with damaged draws, and stores on a read-only mount (issue #15).

The read-only store is a real read-only mount (a tmpfs remounted ``ro``): the tests run as root,
which ignores file permissions, so ``chmod -R a-w`` would prove nothing. Skipped where ``mount``
is not allowed.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from rareflow.cli import main
from rareflow.runs.ensemble import ensemble_summary, run_ensemble
from rareflow.store import CorruptStoreError, RunStore, files
from rareflow.store.errors import StoreNotWritableError, StoreReadOnlyError
from rareflow.testing import synthetic_result

YEARS = range(2024, 2027)
SCENARIO = "slow-rebuild"




def _draws(root: Path, run_id: str) -> dict[int, xr.Dataset]:
    with RunStore(root, read_only=True) as store:
        return {d: store.load_result(run_id, d) for d in sorted(store.completed_draws(run_id))}


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_resume_redoes_damaged_draws_identically(
    in_process_cluster: str, tmp_path: Path
) -> None:
    """Before, a resumed ensemble counted the damaged draws as done and left them damaged."""
    args = {"draws": 3, "seed": 3, "years": YEARS, "store_dir": tmp_path,
            "scheduler": in_process_cluster}
    first = run_ensemble(SCENARIO, **args)  # type: ignore[arg-type]
    reference = _draws(tmp_path, first.run_id)
    files.variable_file(tmp_path, first.run_id, 1, "key_series").write_bytes(b"PAR1")
    files.variable_file(tmp_path, first.run_id, 2, "price").unlink()
    with RunStore(tmp_path, read_only=True) as store, pytest.raises(CorruptStoreError) as caught:
        ensemble_summary(store, first.run_id)
    assert "draw 1" in str(caught.value) and "key_series.parquet" in str(caught.value)
    again = run_ensemble(SCENARIO, **args)  # type: ignore[arg-type]
    assert again.run_id == first.run_id
    assert again.redone_damaged == (1, 2) and again.ran == 2 and again.resumed == 1
    redone = _draws(tmp_path, first.run_id)
    assert sorted(redone) == [0, 1, 2]
    for draw, ds in reference.items():
        for name in ds.data_vars:
            np.testing.assert_array_equal(ds[name].values, redone[draw][name].values,
                                          err_msg=f"draw {draw}: {name}")
    with RunStore(tmp_path, read_only=True) as store:
        assert store.damaged_draws(first.run_id) == []
        assert ensemble_summary(store, first.run_id).attrs["n_done"] == 3


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Path]:
    """A fresh tmpfs (read-write until ``_remount_ro``); skipped where mounting is not allowed."""
    target = tmp_path / f"mnt-{uuid.uuid4().hex[:6]}"
    target.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(target)],
                          capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=False)


def _remount_ro(target: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(target)], check=True)


def test_read_only_mount_reads_work_and_writes_fail_in_one_line(
    in_process_cluster: str, mount: Path, tmp_path: Path
) -> None:
    root = mount / "store"
    outcome = run_ensemble(SCENARIO, draws=2, seed=5, years=YEARS, store_dir=root,
                           scheduler=in_process_cluster)
    with RunStore(root, durable=False) as store:
        single = store.create_run("single", "one", "text", "d", "c", 1, 1)
        store.write_draw(single.run_id, 0, synthetic_result(0))
    ens = outcome.run_id
    _remount_ro(mount)
    listing = sorted(p.relative_to(root) for p in root.rglob("*"))

    # every read command works
    code, out = _run("runs", "list", "--store", str(root), "--json")
    assert code == 0, out
    assert {row["run_id"]: row["status"] for row in json.loads(out)} == {
        ens: "complete", single.run_id: "complete"}
    for args in (["runs", "show", ens], ["runs", "show", single.run_id],
                 ["report", single.run_id, "--out", str(tmp_path / "single.html")],
                 ["report", ens, "--out", str(tmp_path / "ensemble.html")],
                 ["compare", single.run_id, ens, "--draw", "0"]):
        code, out = _run(*args, "--store", str(root))
        assert code == 0, (args, out)
    with RunStore(root, read_only=True) as store:
        assert ensemble_summary(store, ens).attrs["n_done"] == 2
        assert store.query(f"SELECT count(*) AS n FROM result('{ens}', 'price')")["n"][0] > 0

    # every write says, in one line, that the folder is read-only
    where = str(root.resolve())
    with pytest.raises(StoreNotWritableError) as caught:
        RunStore(root)
    assert where in str(caught.value) and "\n" not in str(caught.value)
    assert isinstance(caught.value, StoreReadOnlyError)
    with pytest.raises(StoreNotWritableError, match="read-only"):
        run_ensemble(SCENARIO, draws=2, seed=5, years=YEARS, store_dir=root,
                     scheduler=in_process_cluster)
    for args in (["runs", "delete", ens, "--yes"], ["runs", "prune"]):
        code, out = _run(*args, "--store", str(root))
        assert code != 0 and where in out and "read-only" in out and "Traceback" not in out
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == listing


def test_a_run_into_a_read_only_store_is_refused_before_simulating(mount: Path) -> None:
    from rareflow.runs import run_scenario

    root = mount / "store"
    RunStore(root, durable=False).close()
    _remount_ro(mount)
    simulated: list[int] = []
    with pytest.raises(StoreNotWritableError, match="read-only"):
        run_scenario("baseline", years=range(2024, 2026), store_dir=root,
                     progress=simulated.append)
    assert simulated == []
    with pytest.raises(StoreNotWritableError):
        RunStore.check_writable(mount / "new-store")  # not yet made: its parent decides
