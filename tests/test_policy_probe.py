"""The first year is probed (solved without policies) only when a policy reads a reference year."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xarray as xr

from policy_runs import scenario
from rareflow.engine.simulate import simulate
from rareflow.model.world import World
from rareflow.policy import compile_policies
from rareflow.policy.base import Effect
from rareflow.policy.program import ScenarioProgram
from rareflow.testing import tiny_world

YEARS = [2024, 2025]
#: Policies that act on their own numbers only (capacity, demand, recycling, technology).
UNPRICED: tuple[dict[str, Any], ...] = (
    {"id": "tech", "type": "export_control", "exporter": "CHN", "products": ["technology"],
     "destinations": "all", "start": 2024, "mode": "ban", "technology_controls": True},
    {"id": "fast", "type": "fast_track", "region": "allies", "lead_time_reduction_years": 1,
     "start": 2024},
    {"id": "ferrite", "type": "substitution", "sector": "electronics", "technology": "ferrite",
     "available_from": 2024, "max_share": 0.2, "cost_usd_per_kg": 10},
    {"id": "shock", "type": "demand_shock", "sector": "ev", "region": "USA", "years": [2025],
     "factor": 1.2},
    {"id": "recycling", "type": "recycling_target", "region": "USA", "share": 0.2,
     "from_year": 2024, "by_year": 2025, "path": "step"},
)
TARIFF = {"id": "duty", "type": "tariff", "product": "oxide", "exporter": "CHN",
          "importer": "USA", "ad_valorem": 0.25, "start": 2024}


@pytest.fixture(scope="module")
def world() -> World:
    return tiny_world()


def _run(world: World, *policies: dict[str, Any]) -> tuple[ScenarioProgram, xr.Dataset]:
    program = compile_policies(scenario(*policies), world)
    return program, simulate(program.world, years=YEARS, policy=program)


def test_policies_that_read_no_reference_year_are_not_probed(world: World) -> None:
    program, _ = _run(world, *UNPRICED)
    assert program.probe_basis() is None


def test_a_price_reading_policy_is_probed(world: World) -> None:
    program, _ = _run(world, *UNPRICED, TARIFF)
    assert program.probe_basis() is not None


def test_probing_would_not_change_the_results_of_unpriced_policies(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _, unprobed = _run(world, *UNPRICED)
    monkeypatch.setattr(Effect, "needs_reference", lambda self: True)
    for effect_type in {type(effect) for effect in compile_policies(
            scenario(*UNPRICED), world).effects}:
        monkeypatch.setattr(effect_type, "needs_reference", lambda self: True)
    program, probed = _run(world, *UNPRICED)
    assert program.probe_basis() is not None
    for name in unprobed.data_vars:
        np.testing.assert_array_equal(unprobed[name].values, probed[name].values, err_msg=name)
