"""A worker whose rareflow code or world data is not the driver's refuses the ensemble's tasks.

The refusal goes through the real path: the driver's spec, a Dask task on a worker, the check
at task start, the named error back on the driver. (A worker process with other code, started
with ``dask worker``, is refused through the CLI in tests/test_ensemble_cluster.py.)
"""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest
from distributed import Client

from rareflow.data.loader import load_world
from rareflow.runs.ensemble import driver
from rareflow.runs.ensemble.versions import VersionMismatchError, code_version
from rareflow.runs.ensemble.worker import EnsembleSpec, data_version, run_batch
from rareflow.scenario import load_scenario
from rareflow.version import __version__

YEARS = (2024, 2025)
SCENARIO = "slow-rebuild"


@pytest.fixture(scope="module")
def spec() -> EnsembleSpec:
    """The spec the driver sends for a two-year ensemble (a run key no other test uses)."""
    world = load_world()
    scenario = load_scenario(SCENARIO, world)
    return driver.ensemble_spec("versions-test", "versions-test-run", scenario, world, YEARS,
                                seed=5)


def test_code_version_is_the_release_plus_a_digest_of_the_source() -> None:
    version = code_version()
    release, _, digest = version.partition("+")
    assert release == __version__ and len(digest) == 12
    assert int(digest, 16) >= 0


def test_spec_carries_the_world_and_both_versions(spec: EnsembleSpec) -> None:
    world = load_world()
    assert spec.code_version == code_version()
    assert spec.data_version == data_version(world)
    assert spec.data_dir is None  # workers need no data files
    assert len(pickle.dumps(spec)) < 2_000_000


def test_worker_refuses_a_task_whose_world_data_version_differs(
    spec: EnsembleSpec, in_process_cluster: str
) -> None:
    wrong = replace(spec, run_key="versions-test-data",
                    data_version="rareflow-world 1999.1 (000000000000)")
    with Client(in_process_cluster) as client:  # type: ignore[no-untyped-call]
        future = client.submit(run_batch, wrong, [0], pure=False)
        with pytest.raises(VersionMismatchError) as raised:
            future.result()
    error = raised.value
    assert error.what == "data"
    assert error.driver == "rareflow-world 1999.1 (000000000000)"
    assert error.worker == spec.data_version
    assert "1999.1" in str(error) and spec.data_version in str(error)


def test_driver_stops_the_ensemble_when_a_worker_refuses_its_code(
    spec: EnsembleSpec, in_process_cluster: str
) -> None:
    wrong = replace(spec, run_key="versions-test-code", code_version="0.0.1+0123456789ab")
    client = Client(in_process_cluster)  # type: ignore[no-untyped-call]
    with client, pytest.raises(VersionMismatchError) as raised:
        list(driver._run_batches(client, wrong, [[0], [1]]))
    text = str(raised.value)
    assert "0.0.1+0123456789ab" in text and code_version() in text
    assert "\n" not in text
