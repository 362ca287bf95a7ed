"""The scaling study's larger worlds: valid, same totals, solvable, balanced; 17 elements too."""

from __future__ import annotations

import math

import pytest

from conservation import assert_balances_close
from rareflow.data.loader import load_world
from rareflow.engine.simulate import simulate
from rareflow.model.elements import INDIVIDUAL_ELEMENTS, OTHER_HEAVY_MEMBERS
from rareflow.model.errors import DataError
from rareflow.model.world import World
from rareflow.policy import compile_policies
from rareflow.scenario import load_scenario
from rareflow.testing import tiny_world
from rareflow.testing.elements import individual_elements
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


def test_individual_elements_split_the_heavy_group_and_keep_world_totals() -> None:
    world = load_world()
    split = individual_elements(world)
    assert split.elements == INDIVIDUAL_ELEMENTS
    # all 17 rare earths, Nd and Pr traded together
    symbols = {s for e in split.elements for s in (("Nd", "Pr") if e == "NdPr" else (e,))}
    assert len(symbols) == 17
    for before, after in zip(world.deposits, split.deposits, strict=True):
        assert "other_heavy" not in after.shares
        assert math.isclose(sum(after.shares.values()), 1.0, abs_tol=1e-9)
        heavy = sum(after.shares.get(member, 0.0) for member in OTHER_HEAVY_MEMBERS)
        assert math.isclose(heavy, before.shares.get("other_heavy", 0.0), rel_tol=1e-12)
        assert after.shares.get("Pm", 0.0) == after.shares.get("Sc", 0.0) == 0.0
    assert math.isclose(_totals(split)[1], _totals(world)[1], rel_tol=1e-12)
    assert math.isclose(sum(row.t for row in split.scrap), sum(row.t for row in world.scrap),
                        rel_tol=1e-12)
    assert all(split.oxide_reference_price(row.element, row.region) is not None
               for row in split.demand if row.element is not None)


def test_a_world_names_only_the_elements_it_tracks() -> None:
    world = tiny_world()
    with pytest.raises(ValueError, match="unknown element 'other_heavy'"):
        World(**{**dict(world), "elements": tuple(e for e in world.elements
                                                  if e != "other_heavy")})
    with pytest.raises(ValueError, match="duplicate element"):
        World(**{**dict(world), "elements": (*world.elements, "Dy")})


def test_a_generated_17_element_world_balances_and_reports_every_element() -> None:
    world = scaled_world(load_world(), copies=1, twins=0, individual=True)
    result = simulate(world, range(2024, 2027))
    assert tuple(result.element.values) == INDIVIDUAL_ELEMENTS
    assert_balances_close(result)
    separated = result.production.sel(stage="separation").sum(["year", "region", "origin"])
    for member in OTHER_HEAVY_MEMBERS:
        assert float(separated.sel(element=member)) > 0.0, member
    assert float(separated.sel(element="Pm")) == 0.0  # no deposit carries promethium


def test_element_policies_are_refused_in_a_17_element_world() -> None:
    world = individual_elements(tiny_world())
    with pytest.raises(DataError, match="do not support yet"):
        compile_policies(load_scenario("heavy-ban"), world, missing="skip")


def test_an_element_a_magnet_recipe_uses_goes_through_the_metal_stage() -> None:
    world = individual_elements(tiny_world())
    assert world.magnet_elements == ("NdPr", "Sm", "Tb", "Dy")
    grades = tuple(
        grade.model_copy(update={"content_kg_reo_per_t": {**grade.content_kg_reo_per_t,
                                                          "Ho": 5.0}})
        if grade.id == "ht" else grade for grade in world.magnet_grades)
    world = World(**{**dict(world), "magnet_grades": grades})
    assert world.magnet_elements == ("NdPr", "Sm", "Tb", "Dy", "Ho")
    result = simulate(world, range(2024, 2026))
    assert_balances_close(result)
    assert float(result.production.sel(stage="metal", element="Ho").sum()) > 0.0
