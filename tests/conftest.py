"""Shared test configuration: Hypothesis profiles, and the in-process Dask cluster fixture.

``HYPOTHESIS_PROFILE`` picks the profile: ``ci`` (the default; what CI can afford) or
``thorough`` (ten times the examples, for a long local or nightly run). Tests take the profile's
``max_examples``; a test whose every example is costly (a whole simulation) takes a fixed share
of it with :func:`hypothesis_budget.scaled`, and the fuzz tests a multiple.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from distributed import Client, LocalCluster
from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}

settings.register_profile("ci", max_examples=50, **_COMMON)
settings.register_profile("thorough", max_examples=500, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture()
def in_process_cluster() -> Iterator[str]:
    """A thread-based Dask cluster's address: cheap to start, and its workers run in this
    process, so a test can inject a failure into them with ``monkeypatch``."""
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster):
        yield str(cluster.scheduler_address)
