"""Scenario names checked against a small hand-built world."""

from __future__ import annotations

from pathlib import Path

import pytest

from rareflow.model import (
    DataError,
    Deposit,
    Facility,
    MagnetGrade,
    Provenance,
    Region,
    Sector,
    SectorDemand,
    TradeCosts,
    World,
)
from rareflow.scenario import (
    ExportControl,
    bundled_names_of,
    load_scenario,
    validate_against_world,
)

SRC = {"source": "test fixture"}

#: Facility ids the bundled scenarios use (to be reconciled with the bundled world data).
SCENARIO_FACILITIES = (
    "mp_mountain_pass_mine",
    "mp_mountain_pass_separation",
    "mp_independence_magnets",
    "mp_independence_apple_lines",
    "mp_10x_magnets",
    "lynas_seadrift",
    "ef_white_mesa_heavy",
    "ucore_louisiana",
    "vulcan_elements_magnets",
    "usar_stillwater_magnets",
    "noveon_magnets",
    "arafura_nolans_separation",
    "reelement_marion",
)
SECTORS = ("ev", "wind", "electronics", "industrial_motors", "defence", "other")


def _facility(fid: str, stage: str, **extra: object) -> Facility:
    fields: dict[str, object] = {
        "id": fid,
        "name": fid,
        "operator": "MP Materials" if fid.startswith("mp_") else "op",  # trade_halt names MP
        "country": "USA",
        "stage": stage,
        "status": "announced",
        "nameplate_t": 1000.0,
        "start_year": 2027,
        "unit_cost_usd_per_kg": 20.0,
        **SRC,
    }
    if stage == "mining":
        fields["deposit"] = "mountain_pass"
    if stage == "separation":
        fields["feeds"] = ("*",)
    if stage == "magnet":
        fields["magnet_grades"] = ("n42",)
    fields.update(extra)
    return Facility.model_validate(fields)


def _stage_of(fid: str) -> str:
    for stage in ("mine", "magnets"):
        if fid.endswith(stage):
            return {"mine": "mining", "magnets": "magnet"}[stage]
    return "separation"


def make_world() -> World:
    """A tiny but valid world with the regions, groups, facilities and sectors scenarios use."""
    regions = [
        Region(id="CHN", name="China", is_china=True, **SRC),
        Region(id="USA", name="United States", groups=("allies",), **SRC),
        Region(id="AUS", name="Australia", groups=("allies",), **SRC),
        Region(id="JPN", name="Japan", groups=("allies",), **SRC),
        Region(id="EST", name="Estonia", groups=("EU", "allies"), **SRC),
        Region(id="FRA", name="France", groups=("EU", "allies"), **SRC),
        Region(id="DEU", name="Germany", groups=("EU", "allies"), **SRC),
        Region(id="MYS", name="Malaysia", **SRC),
        Region(id="ROW", name="Rest of world", **SRC),
    ]
    deposit = Deposit(
        id="mountain_pass",
        name="Mountain Pass",
        country="USA",
        deposit_class="bastnasite",
        shares={"NdPr": 0.2, "La": 0.3, "Ce": 0.5},
        **SRC,
    )
    grade = MagnetGrade(
        id="n42", name="N42", family="ndfeb", content_kg_reo_per_t={"NdPr": 300.0}, **SRC
    )
    sectors = [
        Sector(id=sid, name=sid, kind="magnet", magnet_mix={"n42": 1.0},
               reference_price_usd_per_kg=100.0, elasticity=0.2, **SRC)
        for sid in SECTORS
    ]
    return World(
        provenance=Provenance(name="test", version="0", base_year=2024),
        regions=tuple(regions),
        deposits=(deposit,),
        facilities=tuple(_facility(fid, _stage_of(fid)) for fid in SCENARIO_FACILITIES),
        magnet_grades=(grade,),
        sectors=tuple(sectors),
        demand=(SectorDemand(region="USA", sector="ev", year=2024, tonnes=100.0, **SRC),),
        trade=TradeCosts(transport_usd_per_kg={"oxide": 1.0}, **SRC),
    )


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.mark.parametrize("name", bundled_names_of("2024"))
def test_bundled_scenarios_validate_against_world(name: str, world: World) -> None:
    scenario = load_scenario(name, world)
    validate_against_world(scenario, world)


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


BASE = """\
name: t
description: test
policies:
"""


@pytest.mark.parametrize(
    ("policy", "field", "suggestion", "line"),
    [
        (
            "  - {id: a, type: export_control, elements: [Dy], start: 2025, mode: ban,\n"
            "     destinations: [USA, Allies]}\n",
            "policies[0].destinations[1]",
            "allies",
            5,
        ),
        (
            "  - id: a\n    type: tariff\n    importer: USA\n    exporter: CHNA\n"
            "    product: oxide\n    usd_per_kg: 1\n    start: 2025\n",
            "policies[0].exporter",
            "CHN",
            7,
        ),
        (
            "  - id: a\n    type: offtake\n    buyer: USA\n    facility: mp_10x_magnet\n"
            "    share: 1\n    start: 2028\n    years: 10\n",
            "policies[0].facility",
            "mp_10x_magnets",
            7,
        ),
        (
            "  - id: a\n    type: demand_shock\n    sector: defense\n    years: 2027\n"
            "    factor: 1.5\n",
            "policies[0].sector",
            "defence",
            6,
        ),
        (
            "  - id: a\n    type: price_floor\n    producers: [mp_mountain_pass_separaton]\n"
            "    floor_usd_per_kg: 110\n    start: 2025\n    years: 10\n    payer: USA\n",
            "policies[0].producers[0]",
            "mp_mountain_pass_separation",
            6,
        ),
    ],
)
def test_unknown_world_names_are_located_with_suggestion(
    tmp_path: Path, world: World, policy: str, field: str, suggestion: str, line: int
) -> None:
    path = _write(tmp_path, BASE + policy)
    with pytest.raises(DataError) as info:
        load_scenario(path, world)
    error = info.value
    assert error.file == str(path.resolve())
    assert error.field == field
    assert error.suggestion == suggestion
    assert error.line == line
    assert error.record == "a"


def test_unknown_names_in_overrides_and_uncertainty(tmp_path: Path, world: World) -> None:
    text = "name: t\ndescription: d\noverrides:\n  facilities:\n"
    text += "    lynas_seadrif: {delay_years: 1}\n"
    with pytest.raises(DataError) as info:
        load_scenario(_write(tmp_path, text), world)
    assert info.value.suggestion == "lynas_seadrift"
    assert info.value.line == 5
    assert info.value.field == "overrides.facilities.lynas_seadrif"

    text = (
        "name: t\ndescription: d\nuncertainty:\n  demand_growth:\n"
        "    evs: {rate: {dist: uniform, low: 0, high: 0.1}}\n"
    )
    with pytest.raises(DataError) as info:
        load_scenario(_write(tmp_path, text), world)
    assert info.value.suggestion == "ev"
    assert info.value.line == 5


def test_validation_is_optional(tmp_path: Path) -> None:
    text = BASE + "  - {id: a, type: fast_track, region: Atlantis, lead_time_reduction_years: 1}\n"
    assert load_scenario(_write(tmp_path, text)).policies[0].id == "a"


def test_destination_regions_expand_groups_and_exceptions(world: World) -> None:
    control = ExportControl.model_validate(
        {"id": "x", "elements": ["Dy"], "start": 2026, "mode": "ban", "except": ["EU"]}
    )
    assert control.destination_regions(world) == ["USA", "AUS", "JPN", "MYS", "ROW"]
    heavy = load_scenario("heavy-ban", world).policy("chn_heavy_ban")
    assert isinstance(heavy, ExportControl)
    assert heavy.destination_regions(world) == ["USA", "AUS", "JPN", "EST", "FRA", "DEU"]
