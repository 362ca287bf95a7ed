"""An ensemble on a real multi-process Dask cluster whose workers share nothing with the driver.

The scheduler and the workers are started with the ``dask scheduler`` / ``dask worker``
command-line tools as separate processes on 127.0.0.1 (ports chosen by the scheduler). Each
worker runs in its own empty temporary folder with its own HOME and an environment without the
driver's run store; the driver runs the ``rareflow ensemble`` CLI from a third folder. The
workers import the same rareflow as this test (PYTHONPATH names its folder) and nothing else:
no data files, no store.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from distributed import Client

import rareflow
from rareflow.runs.ensemble import run_ensemble
from rareflow.runs.ensemble.versions import code_version
from rareflow.store import RunStore
from store_progress import done_draws

pytestmark = pytest.mark.slow

SCENARIO = "slow-rebuild"
YEARS = "2024-2026"
DRAWS = 20
SEED = 3
#: The folder holding the ``rareflow`` package this test imports.
PACKAGE_PARENT = Path(rareflow.__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")
#: Seconds to wait for the scheduler and workers to start, and for the ensemble to finish.
START_TIMEOUT = 60.0
RUN_TIMEOUT = 240.0


def _env(home: Path, python_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: PATH, its own HOME, the package's folder first on PYTHONPATH."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "PYTHONPATH": str(python_path), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


class Processes:
    """Processes started in their own process groups; all are killed on exit, even on failure."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str], cwd: Path, env: dict[str, str],
              log: Path) -> subprocess.Popen[bytes]:
        """Start ``args`` in ``cwd`` with stdout and stderr into ``log``."""
        with log.open("wb") as sink:
            process = subprocess.Popen(args, cwd=cwd, env=env, stdout=sink,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the process and everything it started (its process group)."""
        with suppress(ProcessLookupError):  # the group is gone once all its processes are
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def close(self) -> None:
        """Kill every process still running."""
        for process in reversed(self.started):
            self.kill(process)


Cluster = tuple[str, list[subprocess.Popen[bytes]], Processes]


@contextmanager
def cluster(base: Path, n_workers: int, python_path: Path = PACKAGE_PARENT) -> Iterator[Cluster]:
    """A scheduler and ``n_workers`` single-threaded workers, each in its own folder and HOME."""
    processes = Processes()
    try:
        home = base / "scheduler"
        home.mkdir()
        address_file = home / "scheduler.json"
        processes.start([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
                         "--no-dashboard", "--scheduler-file", str(address_file)],
                        home, _env(home, python_path), base / "scheduler.log")
        deadline = time.monotonic() + START_TIMEOUT
        while not address_file.exists() or not address_file.read_text().strip():
            assert time.monotonic() < deadline, (base / "scheduler.log").read_text()
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written in one go, but let the writer close it
        address = str(json.loads(address_file.read_text())["address"])
        workers = []
        for number in range(n_workers):
            folder = base / f"worker-{number}"
            folder.mkdir()
            workers.append(processes.start(
                [str(DASK), "worker", address, "--nthreads", "1", "--nworkers", "1",
                 "--host", "127.0.0.1", "--no-dashboard", "--name", f"worker-{number}",
                 "--local-directory", str(folder / "dask"), "--death-timeout", "30"],
                folder, _env(folder, python_path), base / f"worker-{number}.log"))
        with Client(address, timeout=START_TIMEOUT) as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(n_workers, timeout=START_TIMEOUT)
        yield address, workers, processes
    finally:
        processes.close()


def _draws(store_dir: Path, run_id: str) -> dict[int, xr.Dataset]:
    with RunStore(store_dir, read_only=True) as store:
        return {d: store.load_result(run_id, d) for d in sorted(store.completed_draws(run_id))}


def _ensemble_args(address: str) -> list[str]:
    return [sys.executable, "-m", "rareflow", "ensemble", SCENARIO, "--draws", str(DRAWS),
            "--seed", str(SEED), "--years", YEARS, "--scheduler", address, "--json"]


def test_ensemble_survives_a_killed_worker_and_equals_a_local_cluster(tmp_path: Path) -> None:
    driver_dir = tmp_path / "driver"
    driver_dir.mkdir()
    store = driver_dir / "store"
    with cluster(tmp_path, 2) as (address, workers, processes):
        run = processes.start(_ensemble_args(address), driver_dir,
                              _env(driver_dir, PACKAGE_PARENT, RAREFLOW_STORE=str(store)),
                              tmp_path / "driver.log")
        deadline = time.monotonic() + RUN_TIMEOUT
        while (killed_at := done_draws(store)) < 1:  # the first batch (3 draws) is stored
            assert run.poll() is None, (tmp_path / "driver.log").read_text()
            assert time.monotonic() < deadline, "no batch was stored in time"
            time.sleep(0.05)
        processes.kill(workers[0])
        assert killed_at < DRAWS, "the ensemble ended before a worker could be killed"
        assert run.wait(timeout=RUN_TIMEOUT) == 0, (tmp_path / "driver.log").read_text()
    lines = (tmp_path / "driver.log").read_text().splitlines()
    payload = json.loads(next(line for line in reversed(lines) if line.startswith("{")))
    assert (payload["n_done"], payload["ran"], payload["n_failed"]) == (DRAWS, DRAWS, 0)
    # results reached the store through Dask: no worker wrote a result file anywhere it could
    for number in range(2):
        assert not list((tmp_path / f"worker-{number}").rglob("*.parquet"))

    local = tmp_path / "local-store"
    start, end = (int(year) for year in YEARS.split("-"))
    reference = run_ensemble(SCENARIO, draws=DRAWS, seed=SEED, years=range(start, end + 1),
                             store_dir=local, workers=2)
    assert reference.run.n_done == DRAWS
    ours, theirs = _draws(store, payload["run_id"]), _draws(local, reference.run_id)
    assert sorted(ours) == sorted(theirs) == list(range(DRAWS))
    for draw, result in ours.items():
        for variable in result.data_vars:
            np.testing.assert_array_equal(result[variable].values,
                                          theirs[draw][variable].values,
                                          err_msg=f"draw {draw}: {variable}")


def test_results_through_a_shared_folder_url(tmp_path: Path) -> None:
    """A worker writes draws under a ``file://`` URL (a shared mount); the driver takes them all."""
    driver_dir = tmp_path / "driver"
    driver_dir.mkdir()
    store, shared = driver_dir / "store", tmp_path / "shared"
    with cluster(tmp_path, 1) as (address, _, _):
        args = [*_ensemble_args(address), "--results-url", shared.as_uri()]
        args[args.index("--draws") + 1] = "4"
        result = subprocess.run(args, cwd=driver_dir, capture_output=True, text=True,
                                timeout=RUN_TIMEOUT,
                                env=_env(driver_dir, PACKAGE_PARENT, RAREFLOW_STORE=str(store)))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert (payload["n_done"], payload["n_failed"]) == (4, 0)
    assert shared.is_dir() and not list(shared.iterdir())  # fetched, stored, then removed
    assert not list((tmp_path / "worker-0").rglob("*.parquet"))
    assert sorted(_draws(store, payload["run_id"])) == [0, 1, 2, 3]


def test_worker_with_other_rareflow_code_is_refused_with_one_error_line(tmp_path: Path) -> None:
    patched = tmp_path / "patched"
    shutil.copytree(PACKAGE_PARENT / "rareflow", patched / "rareflow",
                    ignore=shutil.ignore_patterns("__pycache__"))
    with (patched / "rareflow" / "version.py").open("a") as handle:
        handle.write("# a local patch on this worker\n")
    driver_dir = tmp_path / "driver"
    driver_dir.mkdir()
    store = driver_dir / "store"
    with cluster(tmp_path, 1, python_path=patched) as (address, _, _):
        result = subprocess.run(_ensemble_args(address), cwd=driver_dir, capture_output=True,
                                text=True, timeout=RUN_TIMEOUT,
                                env=_env(driver_dir, PACKAGE_PARENT,
                                         RAREFLOW_STORE=str(store)))
    assert result.returncode == 2, result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("error: ") and "code version" in line
    assert code_version() in line
    assert "Traceback" not in result.stderr
    with RunStore(store, read_only=True) as opened:
        assert opened.list_runs() == []  # refused before the run was created
