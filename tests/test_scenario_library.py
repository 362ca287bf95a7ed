"""The bundled scenario library and the ``rareflow scenarios`` commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from rareflow.cli import main
from rareflow.scenario import (
    CapacitySupport,
    ExportControl,
    Offtake,
    PriceFloor,
    RecyclingTarget,
    SourcingCap,
    Tariff,
    bundled_names,
    library_dir,
    load_scenario,
)

EXPECTED = {
    "baseline",
    "controls-2025-april",
    "controls-2025-october",
    "suspension-2025-11",
    "heavy-ban",
    "price-war",
    "wartime-rebuild",
    "slow-rebuild",
    "recycling-20pct-2030",
    "crma-2030",
    "mp-dod-2025",
    "actual-path-2025",
}
#: Backtests replay history on their own world; they do not extend the 2024 baseline.
BACKTESTS = {"backtest-2010-crisis"}
REPO = Path(__file__).resolve().parents[1]


def test_library_is_complete() -> None:
    assert set(bundled_names()) == EXPECTED | BACKTESTS


def test_repository_scenarios_folder_is_the_package_folder() -> None:
    top = REPO / "scenarios"
    if top.exists():
        assert top.resolve() == library_dir().resolve()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_scenario_loads(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.description and "\n" not in scenario.description
    assert scenario.years is not None
    assert scenario.lineage[-1] == "baseline"
    assert all(policy.source for policy in scenario.policies)


@pytest.mark.parametrize("name", sorted(BACKTESTS))
def test_backtest_loads_on_its_own_world(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name and scenario.world not in (None, "2024")
    assert scenario.years is not None
    assert all(policy.source for policy in scenario.policies)


@pytest.mark.parametrize("name", sorted(EXPECTED | BACKTESTS))
def test_bundled_scenario_cites_its_sources(name: str) -> None:
    text = (library_dir() / f"{name}.yaml").read_text()
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    assert re.search(r"\((?:[^()]*\b20\d\d\b[^()]*)\)", header), name  # "(outlet, year)"


@pytest.mark.parametrize("name", sorted(EXPECTED | BACKTESTS))
def test_bundled_scenario_text_points_at_no_file_outside_the_repository(name: str) -> None:
    """Descriptions, comments, notes and sources cite publications, not the authors' notes."""
    text = (library_dir() / f"{name}.yaml").read_text(encoding="utf-8")
    for outside in ("FACTS.md", "seeds/", "Seed 0", "seed 0"):
        assert outside not in text, (name, outside)


def test_april_controls() -> None:
    (april,) = [
        p
        for p in load_scenario("controls-2025-april").policies_of(ExportControl)
        if p.id == "chn_controls_2025_04"
    ]
    assert set(april.elements) == {"Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y"}
    assert april.mode == "licence" and str(april.window()[0]) == "2025-04-04"


def test_october_controls() -> None:
    scenario = load_scenario("controls-2025-october")
    elements = scenario.policy("chn_controls_2025_10_elements")
    assert isinstance(elements, ExportControl)
    assert set(elements.elements) == {"Ho", "Er", "Tm", "Eu", "Yb"}
    deminimis = scenario.policy("chn_controls_2025_10_deminimis")
    assert isinstance(deminimis, ExportControl)
    assert deminimis.de_minimis == 0.001
    assert str(deminimis.window()[0]) == "2025-12-01"
    technology = scenario.policy("chn_controls_2025_10_technology")
    assert isinstance(technology, ExportControl) and technology.controls_technology
    assert scenario.policy("chn_controls_2025_04")  # inherited


def test_suspension_has_return_probability() -> None:
    scenario = load_scenario("suspension-2025-11")
    timing = scenario.uncertainty.policy_timing["october_measures_return"]
    assert timing.applies is not None and 0 < timing.applies.p < 1
    assert len(timing.policy_ids("october_measures_return")) == 3


def test_heavy_ban() -> None:
    ban = load_scenario("heavy-ban").policy("chn_heavy_ban")
    assert isinstance(ban, ExportControl)
    assert ban.mode == "ban" and ban.tracked_elements() == ("Dy", "Tb")


def test_price_war_is_an_export_subsidy() -> None:
    tariffs = load_scenario("price-war").policies_of(Tariff)
    assert tariffs and all(t.exporter == "CHN" and (t.usd_per_kg or 0) < 0 for t in tariffs)


def test_mp_dod_deal() -> None:
    scenario = load_scenario("mp-dod-2025")
    supports = {p.kind: p.amount_usd_m for p in scenario.policies_of(CapacitySupport)}
    assert supports == {"equity": 400, "loan": 150}
    (floor,) = scenario.policies_of(PriceFloor)
    assert (floor.floor_usd_per_kg, floor.years, floor.tracked_element()) == (110, 10, "NdPr")
    (offtake,) = scenario.policies_of(Offtake)
    assert (offtake.facility, offtake.share) == ("mp_10x_magnets", 1.0)


def test_recycling_and_crma() -> None:
    (target,) = load_scenario("recycling-20pct-2030").policies_of(RecyclingTarget)
    assert (target.region, target.share, target.by_year) == ("USA", 0.2, 2030)
    crma = load_scenario("crma-2030")
    caps = [c for c in crma.policies_of(SourcingCap) if c.max_share is not None]
    assert {c.stage for c in caps} >= {"separation", "metal", "magnet"}
    assert all(c.max_share == 0.65 and c.from_year == 2030 for c in caps)
    own = {c.stage: c.min_own_share for c in crma.policies_of(SourcingCap) if c.min_own_share}
    assert own["separation"] == 0.40
    (recycling,) = crma.policies_of(RecyclingTarget)
    assert recycling.share == 0.25 and recycling.enforcement == "benchmark"


def test_wartime_and_slow_rebuild_differ_in_delays() -> None:
    fast = load_scenario("wartime-rebuild")
    slow = load_scenario("slow-rebuild")
    assert fast.overrides.delay_years_by_status == {"announced": 0, "under_construction": 0}
    assert slow.overrides.delay_years_by_status["announced"] > 0
    assert slow.years is not None and slow.years.end > 2040


# --- CLI ---------------------------------------------------------------------------------------
def test_cli_list_json() -> None:
    result = CliRunner().invoke(main, ["scenarios", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert set(rows) == EXPECTED | BACKTESTS
    assert rows["backtest-2010-crisis"]["world"] == "2010"
    assert rows["controls-2025-october"]["extends"] == "controls-2025-april"
    assert rows["baseline"]["instruments"] == 1


def test_cli_list_table() -> None:
    result = CliRunner().invoke(main, ["scenarios", "list"])
    assert result.exit_code == 0 and "suspension-2025-11" in result.output


def test_cli_check_ok_and_resolved() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["scenarios", "check", "heavy-ban", "--no-world", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["lineage"] == ["heavy-ban", "controls-2025-april", "baseline"]
    resolved = runner.invoke(main, ["scenarios", "check", "heavy-ban", "--no-world", "--resolved"])
    assert "chn_heavy_ban" in resolved.output and "extends" not in resolved.output


def test_cli_check_reports_located_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ndescription: d\npolices: []\n")
    result = CliRunner().invoke(main, ["scenarios", "check", str(path), "--no-world", "--json"])
    assert result.exit_code == 2  # bad input (see docs/cli.md)
    error = json.loads(result.output)
    assert (error["line"], error["field"], error["suggestion"]) == (3, "polices", "policies")
