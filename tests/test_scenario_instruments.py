"""Instrument schemas: periods and partial years, element mapping, modes and timing draws."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from rareflow.scenario import (
    INSTRUMENT_MODELS,
    CapacitySupport,
    DemandShock,
    ExportControl,
    Offtake,
    PriceFloor,
    RecyclingTarget,
    SourcingCap,
    Stockpile,
    Substitution,
    Tariff,
    load_scenario,
)


def control(**fields: Any) -> ExportControl:
    base: dict[str, Any] = {"id": "c", "elements": ["Dy"], "start": 2026, "mode": "ban"}
    return ExportControl.model_validate({**base, **fields})


def test_every_instrument_documents_its_market_effect() -> None:
    for kind, model in INSTRUMENT_MODELS.items():
        assert model.model_fields["type"].default == kind
        assert model.__doc__ and "How it acts on the market" in model.__doc__, kind


# --- active_fraction ----------------------------------------------------------------------------
def test_years_cover_whole_years() -> None:
    c = control(start=2026, end=2027)
    assert [c.active_fraction(y) for y in (2025, 2026, 2027, 2028)] == [0.0, 1.0, 1.0, 0.0]


def test_open_ended_period() -> None:
    assert control(start=2026).active_fraction(2060) == 1.0


def test_partial_years_from_iso_dates() -> None:
    c = control(start="2025-04-04", end=dt.date(2026, 11, 10))
    assert c.active_fraction(2025) == pytest.approx(272 / 365)  # 4 Apr - 31 Dec
    assert c.active_fraction(2026) == pytest.approx(314 / 365)  # 1 Jan - 10 Nov inclusive
    assert c.active_fraction(2027) == 0.0


def test_leap_year_and_single_day() -> None:
    c = control(start="2028-02-29", end="2028-02-29")
    assert c.active_fraction(2028) == pytest.approx(1 / 366)


def test_suspension_of_october_measures() -> None:
    scenario = load_scenario("suspension-2025-11")
    elements = scenario.policy("chn_controls_2025_10_elements")
    # active 8-9 Nov 2025; suspended 10 Nov 2025 - 10 Nov 2026; back from 11 Nov 2026
    assert elements.active_fraction(2025) == pytest.approx(2 / 365)
    assert elements.active_fraction(2026) == pytest.approx(51 / 365)
    assert elements.active_fraction(2027) == 1.0
    deminimis = scenario.policy("chn_controls_2025_10_deminimis")
    assert deminimis.active_fraction(2025) == 0.0
    april = scenario.policy("chn_controls_2025_04")
    assert april.active_fraction(2025) == pytest.approx(220 / 365)
    general = scenario.policy("chn_controls_2025_04_general_licences")
    assert april.active_fraction(2025) + general.active_fraction(2025) == pytest.approx(272 / 365)


def test_overlapping_suspensions_are_not_double_counted() -> None:
    c = control(
        start=2026,
        suspended=[{"start": "2026-01-01", "end": "2026-06-30"}, {"start": "2026-03-01"}],
    )
    assert c.active_fraction(2026) == 0.0
    assert c.active_fraction(2030) == 0.0


def test_years_based_windows() -> None:
    floor = PriceFloor(
        id="f", producers=("p",), floor_usd_per_kg=110, start="2025-10-01", years=10, payer="USA"
    )
    assert floor.window() == (dt.date(2025, 10, 1), dt.date(2035, 9, 30))
    assert floor.active_fraction(2025) == pytest.approx(92 / 365)
    assert floor.active_fraction(2035) == pytest.approx(273 / 365)
    assert floor.active_fraction(2036) == 0.0
    offtake = Offtake(id="o", buyer="USA", facility="f", share=1, start=2028, years=10)
    assert offtake.active_fraction(2037) == 1.0 and offtake.active_fraction(2038) == 0.0


def test_demand_shock_years() -> None:
    shock = DemandShock(id="d", sector="defence", years=(2027, 2029), factor=1.5)
    assert [shock.factor_in(y) for y in (2026, 2027, 2028, 2029)] == [1.0, 1.5, 1.0, 1.5]
    assert DemandShock.model_validate(
        {"id": "d", "sector": "all", "years": 2027, "factor": 0.5}
    ).years == (2027,)


def test_bad_dates_are_rejected() -> None:
    for start in ("2025-13-01", "someday", True, 1800):
        with pytest.raises(ValidationError):
            control(start=start)
    with pytest.raises(ValidationError, match="before"):
        control(start=2027, end=2026)


# --- export control ----------------------------------------------------------------------------
def test_element_symbols_map_onto_tracked_elements() -> None:
    c = control(elements=["Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y", "Ho", "Nd"])
    assert c.tracked_elements() == ("NdPr", "Dy", "Tb", "Sm", "Y", "other_heavy")


def test_unknown_element_suggests() -> None:
    with pytest.raises(ValidationError) as info:
        control(elements=["Dyy"])
    error = info.value.errors()[0]
    assert error["type"] == "unknown_element" and error["ctx"]["suggestion"] == "Dy"


def test_mode_parameters_are_consistent() -> None:
    with pytest.raises(ValidationError, match="quota_t_per_y"):
        control(mode="quota")
    with pytest.raises(ValidationError, match="approval_share"):
        control(mode="licence")
    with pytest.raises(ValidationError, match="approval_share"):
        control(mode="ban", approval_share=0.5)
    with pytest.raises(ValidationError, match="delay_months"):
        control(mode="ban", delay_months=2)
    with pytest.raises(ValidationError):
        control(mode="licence", approval_share=1.5)
    with pytest.raises(ValidationError, match="elements"):
        control(elements=[])
    assert control(elements=[], products=["technology"]).controls_technology


def test_de_minimis_is_a_share() -> None:
    assert control(de_minimis=0.001).de_minimis == 0.001
    for bad in (0, 1, 5):
        with pytest.raises(ValidationError):
            control(de_minimis=bad)


def test_quota_is_pro_rata() -> None:
    c = control(mode="quota", quota_t_per_y=365.0, start="2026-12-01")
    assert c.quota_t(2026) == pytest.approx(31.0)
    assert c.quota_t(2025) is None
    assert c.blocked_fraction(2026) == 0.0


def test_blocked_fraction_for_licences_with_delay() -> None:
    c = control(mode="licence", approval_share=0.5, delay_months=2, start=2026)
    lag_days = round(2 * 30.436875)
    expected = lag_days / 365 + (1 - lag_days / 365) * 0.5
    assert c.blocked_fraction(2026) == pytest.approx(expected)
    assert c.blocked_fraction(2027) == pytest.approx(0.5)
    assert control(start="2026-07-01").blocked_fraction(2026) == pytest.approx(184 / 365)


def test_except_is_an_alias() -> None:
    c = control(destinations="all", **{"except": ["allies"]})
    assert c.except_ == ("allies",) and c.destinations == ("all",)
    dumped = c.model_dump(by_alias=True)
    assert dumped["except"] == ("allies",)


# --- other instruments -------------------------------------------------------------------------
def test_tariff_needs_exactly_one_rate() -> None:
    base = {"id": "t", "importer": "USA", "exporter": "CHN", "product": "magnet", "start": 2026}
    with pytest.raises(ValidationError, match="exactly one"):
        Tariff.model_validate(base)
    with pytest.raises(ValidationError, match="exactly one"):
        Tariff.model_validate({**base, "usd_per_kg": 1, "ad_valorem": 0.1})
    subsidy = Tariff.model_validate({**base, "usd_per_kg": -5})
    assert subsidy.tracked_elements()[0] == "NdPr"


def test_recycling_target_path() -> None:
    target = RecyclingTarget(id="r", region="USA", share=0.2, from_year=2025, by_year=2030)
    assert [target.required_share(y) for y in (2025, 2026, 2030, 2035)] == pytest.approx(
        [0.0, 0.04, 0.2, 0.2]
    )
    step = target.model_copy(update={"path": "step"})
    assert step.required_share(2029) == 0.0 and step.required_share(2030) == 0.2


def test_sourcing_cap_needs_a_limit() -> None:
    with pytest.raises(ValidationError):
        SourcingCap(id="s", importer="EU", stage="separation", from_year=2030)
    cap = SourcingCap(id="s", importer="EU", stage="separation", max_share=0.65, from_year=2030)
    assert not cap.is_active(2029) and cap.is_active(2030)


def test_stockpile_release_rule() -> None:
    base: dict[str, Any] = {
        "id": "s", "region": "USA", "element": "Dy", "target_t": 100, "fill_rate_t_per_y": 20,
        "start": 2026,
    }
    with pytest.raises(ValidationError, match="price_above"):
        Stockpile.model_validate({**base, "release": {}})
    stock = Stockpile.model_validate(
        {**base, "release": {"on_shortfall": True, "sectors": ["defence"]}}
    )
    assert stock.tracked_element() == "Dy"
    assert stock.references()[-1].path == ("release", "sectors", 0)


def test_substitution_ramp() -> None:
    sub = Substitution(
        id="s", sector="ev", technology="ferrite", available_from=2030, max_share=0.3,
        ramp_years=2, cost_usd_per_kg=10,
    )
    assert [sub.available_share(y) for y in (2029, 2030, 2031, 2032)] == pytest.approx(
        [0, 0.1, 0.2, 0.3]
    )


def test_capacity_support_needs_an_effect() -> None:
    with pytest.raises(ValidationError, match="at least one"):
        CapacitySupport(id="c", facility="f", kind="grant")


def test_instruments_are_immutable() -> None:
    c = control()
    with pytest.raises(ValidationError):
        c.mode = "quota"  # type: ignore[misc]


# --- timing draws ------------------------------------------------------------------------------
def test_with_timing_for_suspended_policy() -> None:
    scenario = load_scenario("suspension-2025-11")
    policy = scenario.policy("chn_controls_2025_10_elements")
    never = policy.with_timing(applies=False)
    assert never.active_fraction(2027) == 0.0 and never.active_fraction(2040) == 0.0
    later = policy.with_timing(applies=True, shift_months=12)
    assert later.active_fraction(2027) == pytest.approx(51 / 365)  # back 11 Nov 2027
    assert later.active_fraction(2028) == 1.0


def test_with_timing_for_plain_policy() -> None:
    c = control(start=2026)
    assert c.with_timing(applies=False).active_fraction(2030) == 0.0
    shifted = c.with_timing(applies=True, shift_months=6)
    assert shifted.active_fraction(2026) == pytest.approx(184 / 365)  # from 1 Jul


def test_scenario_with_timing_moves_grouped_policies_together() -> None:
    scenario = load_scenario("suspension-2025-11")
    draw = {"policy_timing.october_measures_return.applies": 0.0}
    drawn = scenario.with_timing(draw)
    grouped = ("elements", "deminimis", "technology")
    for suffix in grouped:
        assert drawn.policy(f"chn_controls_2025_10_{suffix}").active_fraction(2027) == 0.0
    assert drawn.policy("chn_controls_2025_04_general_licences").active_fraction(2027) == 1.0
    assert drawn.lineage == scenario.lineage
