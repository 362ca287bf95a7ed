"""Building a scenario from policy dicts and simulating it on a world (shared by policy tests)."""

from __future__ import annotations

from typing import Any

import xarray as xr

from rareflow.engine.simulate import simulate
from rareflow.model.world import World
from rareflow.policy import compile_policies
from rareflow.scenario import Scenario


def scenario(*policies: dict[str, Any]) -> Scenario:
    """A scenario named ``test`` holding ``policies``."""
    return Scenario.model_validate({"name": "test", "description": "test",
                                    "policies": list(policies)})


def run(world: World, *policies: dict[str, Any], years: list[int] | None = None) -> xr.Dataset:
    """Simulate ``world`` under ``policies`` (default: 2025 only)."""
    program = compile_policies(scenario(*policies), world)
    return simulate(program.world, years=years or [2025], policy=program)
