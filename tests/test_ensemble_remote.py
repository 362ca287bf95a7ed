"""Ensemble results through a shared results URL (``file://`` here): same draws, nothing left.

Workers write each draw's files under the URL and return a manifest; the driver checks sizes and
SHA-256, commits, then removes them. Only ``file://`` can be tested without a network; the
other protocols go through the same fsspec calls.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from distributed import LocalCluster

from rareflow.cli import main
from rareflow.runs.ensemble import run_ensemble
from rareflow.store import RunStore, encode_draw_files
from rareflow.store.remote import FetchFailure, RemoteDraw, ResultsLocation, ResultsUrlError
from rareflow.store.sessions import session_names
from rareflow.store.staging import DrawFiles
from store_progress import start_and_kill

YEARS = range(2024, 2027)
SCENARIO = "slow-rebuild"
SEED = 3


def _draws(store_dir: Path, run_id: str) -> dict[int, xr.Dataset]:
    with RunStore(store_dir, read_only=True) as store:
        assert not store.damaged_draws(run_id)
        return {d: store.load_result(run_id, d) for d in sorted(store.completed_draws(run_id))}


def _assert_same_draws(a: dict[int, xr.Dataset], b: dict[int, xr.Dataset]) -> None:
    assert sorted(a) == sorted(b)
    for draw in a:
        assert a[draw].attrs["draw_values"] == b[draw].attrs["draw_values"]
        assert sorted(a[draw].data_vars) == sorted(b[draw].data_vars)
        for variable in a[draw].data_vars:
            np.testing.assert_array_equal(a[draw][variable].values, b[draw][variable].values,
                                          err_msg=f"draw {draw}: {variable}")


def _left_under(remote: Path) -> list[str]:
    return sorted(str(path.relative_to(remote)) for path in remote.rglob("*"))


@pytest.fixture(scope="module")
def processes() -> Iterator[str]:
    """Two worker processes: what they write under a URL reaches the driver only as files."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", silence_logs=50) as cluster:
        yield str(cluster.scheduler_address)


@pytest.fixture(scope="module")
def reference(processes: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Six draws returned through Dask (the default)."""
    store_dir = tmp_path_factory.mktemp("reference")
    outcome = run_ensemble(SCENARIO, draws=6, seed=SEED, years=YEARS, store_dir=store_dir,
                           scheduler=processes)
    assert outcome.run.n_done == 6 and not outcome.failures
    return store_dir, outcome.run_id


def test_url_run_stores_the_same_draws_and_leaves_the_url_empty(
    reference: tuple[Path, str], processes: str, tmp_path: Path
) -> None:
    remote = tmp_path / "shared"
    outcome = run_ensemble(SCENARIO, draws=6, seed=SEED, years=YEARS, store_dir=tmp_path / "s",
                           scheduler=processes, batch_size=2, results_url=remote.as_uri())
    assert outcome.run.n_done == 6 and not outcome.failures
    _assert_same_draws(_draws(*reference), _draws(tmp_path / "s", outcome.run_id))
    assert remote.is_dir() and _left_under(remote) == []


def test_killed_url_run_resumes_only_missing_draws(
    reference: tuple[Path, str], processes: str, tmp_path: Path
) -> None:
    """Kill the driver mid-run; its files under the URL are removed and its draws run again."""
    store, remote = tmp_path / "store", tmp_path / "shared"
    args = [sys.executable, "-m", "rareflow", "ensemble", SCENARIO, "--draws", "6",
            "--seed", str(SEED), "--years", "2024-2026", "--store", str(store),
            "--workers", "1", "--batch-size", "1", "--results-url", remote.as_uri(), "--json"]
    killed_at = start_and_kill(args, store, tmp_path / "first-attempt.log")
    assert 2 <= killed_at < 6
    with RunStore(store, read_only=True) as opened:
        [run] = opened.list_runs()
    # the killed driver's session folder is left, and a dead session's half-written draw
    left = sorted(path.name for path in (remote / run.run_id).iterdir())
    assert len(left) == 1 and left[0].startswith("w-")
    half = remote / run.run_id / "w-1-0123456789ab" / "draw-5.0123456789ab"
    half.mkdir(parents=True)
    (half / "price.parquet").write_bytes(b"PAR1 half a file")

    resumed = run_ensemble(SCENARIO, draws=6, seed=SEED, years=YEARS, store_dir=store,
                           scheduler=processes, results_url=remote.as_uri())
    assert (resumed.run_id, resumed.resumed, resumed.ran) == (run.run_id, killed_at,
                                                              6 - killed_at)
    assert resumed.run.n_done == 6 and not resumed.failures
    _assert_same_draws(_draws(*reference), _draws(store, run.run_id))
    assert _left_under(remote) == []


def test_damaged_remote_file_is_refused_and_the_draw_redone(
    reference: tuple[Path, str], in_process_cluster: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file cut short between the worker's write and the driver's read: never committed."""
    written = ResultsLocation.put_draw

    def cut_short(self: ResultsLocation, folder: str, drawn: DrawFiles) -> RemoteDraw:
        manifest = written(self, folder, drawn)
        if manifest.draw == 1:
            path = Path(self.root) / manifest.files[0].path
            path.write_bytes(path.read_bytes()[: manifest.files[0].size // 2])
        return manifest

    monkeypatch.setattr(ResultsLocation, "put_draw", cut_short)
    store, remote = tmp_path / "store", tmp_path / "shared"
    outcome = run_ensemble(SCENARIO, draws=3, seed=SEED, years=YEARS, store_dir=store,
                           scheduler=in_process_cluster, batch_size=3,
                           results_url=remote.as_uri())
    assert sorted(outcome.failures) == [1]
    assert "damaged" in outcome.failures[1] and "bytes" in outcome.failures[1]
    with RunStore(store, read_only=True) as opened:
        assert opened.completed_draws(outcome.run_id) == {0, 2}
        assert opened.failed_draws(outcome.run_id) == {1}
    assert _left_under(remote) == []

    monkeypatch.setattr(ResultsLocation, "put_draw", written)
    retried = run_ensemble(SCENARIO, draws=3, seed=SEED, years=YEARS, store_dir=store,
                           scheduler=in_process_cluster, results_url=remote.as_uri())
    assert (retried.run_id, retried.ran, retried.run.status) == (outcome.run_id, 1, "complete")
    expected = {d: r for d, r in _draws(*reference).items() if d < 3}
    _assert_same_draws(expected, _draws(store, outcome.run_id))


def _one_draw() -> DrawFiles:
    result = xr.Dataset({"price": (("year",), np.array([1.5, 0.0, 2.5])),
                         "flow": (("year",), np.array([3, 4, 5]))},
                        coords={"year": [2024, 2025, 2026]}, attrs={"draw": 7})
    return encode_draw_files("0123456789ab", 7, result)


@pytest.mark.parametrize(("damage", "said"), [
    ("flip", "SHA-256"), ("truncate", "bytes"), ("remove", "cannot be read")])
def test_fetch_refuses_a_file_that_differs_from_its_manifest(
    tmp_path: Path, damage: str, said: str
) -> None:
    location = ResultsLocation((tmp_path / "shared").as_uri())
    drawn = _one_draw()
    manifest = location.put_draw("0123456789ab/w-1-0123456789ab", drawn)
    assert {item.variable for item in manifest.files} == {"price", "flow"}
    [whole] = location.fetch([manifest])
    assert isinstance(whole, DrawFiles)
    assert {k: v.to_pybytes() for k, v in whole.blobs.items()} == {
        k: v.to_pybytes() for k, v in drawn.blobs.items()}
    path = tmp_path / "shared" / manifest.files[0].path
    data = path.read_bytes()
    if damage == "flip":
        path.write_bytes(data[:-9] + bytes([data[-9] ^ 0xFF]) + data[-8:])
    elif damage == "truncate":
        path.write_bytes(data[:-1])
    else:
        path.unlink()
    [refused] = location.fetch([manifest])
    assert isinstance(refused, FetchFailure) and refused.draw == 7
    assert said in refused.error and manifest.files[0].path in refused.error


def test_clean_run_removes_only_sessions_that_ended(tmp_path: Path) -> None:
    remote = tmp_path / "shared"
    location = ResultsLocation(remote.as_uri())
    with RunStore(tmp_path / "store") as store:
        live = store.staging_dir.name
        for name in (live, "w-1-0123456789ab", "notes"):
            (remote / "0123456789ab" / name).mkdir(parents=True)
        removed = location.clean_run("0123456789ab", lambda: session_names(store.root))
    assert removed == ["0123456789ab/w-1-0123456789ab"]
    assert sorted(p.name for p in (remote / "0123456789ab").iterdir()) == sorted([live, "notes"])


@pytest.mark.parametrize(("url", "said"), [
    ("nosuch://bucket.example/rareflow", "Protocol not known"),
    ("s3://bucket.example/rareflow", "install s3fs"),
    ("gs://bucket.example/rareflow", "install gcsfs"),
    ("shared/rareflow", "has no protocol"),
    ("FILE_UNDER_A_FILE", "cannot be written"),
])
def test_unusable_url_is_refused_before_anything_is_stored(
    tmp_path: Path, url: str, said: str
) -> None:
    package = said.removeprefix("install ") if said.startswith("install ") else None
    if package is not None and importlib.util.find_spec(package) is not None:
        pytest.skip(f"{package} is installed here")
    if url == "FILE_UNDER_A_FILE":
        (tmp_path / "a-file").write_text("not a folder")
        url = (tmp_path / "a-file" / "rareflow").as_uri()
    with pytest.raises(ResultsUrlError, match=re.escape(url)) as caught:
        run_ensemble(SCENARIO, draws=2, seed=SEED, years=YEARS, store_dir=tmp_path / "store",
                     workers=1, results_url=url)
    assert said in str(caught.value)
    assert not (tmp_path / "store").exists()


def test_url_that_workers_do_not_share_is_refused_before_the_run(
    processes: str, tmp_path: Path
) -> None:
    url = "memory://rareflow-staging"  # each process has its own memory filesystem
    with pytest.raises(ResultsUrlError, match="does not reach this process") as caught:
        run_ensemble(SCENARIO, draws=2, seed=SEED, years=YEARS, store_dir=tmp_path / "store",
                     scheduler=processes, results_url=url)
    assert "memory:///rareflow-staging" in str(caught.value)
    with RunStore(tmp_path / "store", read_only=True) as store:
        assert store.list_runs() == []


def test_cli_refuses_a_bad_url_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ensemble", SCENARIO, "--draws", "2", "--store",
                                       str(tmp_path / "store"), "--results-url",
                                       "nosuch://bucket.example/rareflow"])
    assert result.exit_code == 2
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert "nosuch://bucket.example/rareflow" in line and "Protocol not known" in line
    assert "Traceback" not in result.output
    assert not (tmp_path / "store").exists()
