"""The scaling study's larger worlds: valid, same world totals, and solvable."""

from __future__ import annotations

import math

from rareflow.engine.simulate import simulate
from rareflow.model.world import World
from rareflow.testing import tiny_world
from rareflow.testing.worlds import scaled_world


def _totals(world: World) -> tuple[float, float]:
    """Total nameplate capacity and total base-year demand."""
    return (sum(f.nameplate_t for f in world.facilities),
            sum(row.tonnes for row in world.demand))


def test_scaled_world_clones_regions_and_keeps_world_totals() -> None:
    world = tiny_world()
    scaled = scaled_world(world, copies=2, twins=1)
    others = len(world.regions) - 1
    assert len(scaled.regions) == len(world.regions) + 2 * others
    in_china = sum(f.country == world.china for f in world.facilities)
    abroad = len(world.facilities) - in_china
    assert len(scaled.facilities) == 2 * in_china + 4 * abroad
    nameplate, demand = _totals(world)
    scaled_nameplate, scaled_demand = _totals(scaled)
    assert math.isclose(scaled_nameplate, nameplate, rel_tol=1e-12)
    assert math.isclose(scaled_demand, demand, rel_tol=1e-12)
    assert scaled.china == world.china


def test_scaled_world_solves() -> None:
    scaled = scaled_world(tiny_world(), copies=1, twins=1)
    result = simulate(scaled, range(2024, 2026))
    assert result.sizes["year"] == 2
    assert float(result["surplus"].sum()) > 0.0
