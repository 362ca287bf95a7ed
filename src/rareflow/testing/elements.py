"""Worlds that track the rare earths one by one, made from worlds that group them.

:func:`individual_elements` turns a world over the default vocabulary (``other_heavy`` grouping
Eu, Gd, Ho, Er, Tm, Yb, Lu) into one over :data:`~rareflow.model.elements.INDIVIDUAL_ELEMENTS`:
all 17 rare earths, with Nd and Pr kept together as the traded ``NdPr`` (didymium oxide is
sold as one product and the magnet recipes name Nd+Pr together). It is a generated world for
scaling studies and tests, not bundled data: every split below is an assumption.

Assumptions (generated benchmark data, not sourced assays or quotes):

* Deposit shares: a deposit's ``other_heavy`` share is split by an indicative member profile of
  its ore type, rounded from the element patterns of Castor & Hedrick (2006), "Rare earth
  elements", Industrial Minerals and Rocks, 7th ed., table 4: light-REE ores (bastnäsite,
  carbonatite, monazite) after the Mountain Pass column (Eu and Gd carry almost all of it),
  heavy-REE ores (ion-adsorption clays, xenotime, eudialyte, coal by-product) after the
  Longnan column (Gd, Er and Yb lead). The other shares are kept, so each deposit's shares
  still sum to one.
* Pm has no stable isotope and no deposit carries it; Sc is not part of the REO assays the
  deposit shares come from (it is recovered from other ores). Both are tracked with no
  deposit share, no demand and no price, so they carry no flow.
* Demand: each ``other_heavy`` oxide demand row is split in proportion to the members'
  world supply (mining nameplate × deposit share), so no member is short by construction.
* Prices: each member's price in each market is the group's price × its indicative relative
  price (rough 2024 China oxide quotes, USD/kg: Eu 27, Gd 22, Ho 65, Er 40, Tm 100, Yb 14,
  Lu 750; the bundled price file names Gd ≈ 22, Er ≈ 40, Ho ≈ 65), scaled so that the
  supply-weighted mean of the members is the group's price.
* Scrap: ``other_heavy`` magnet scrap is Gd and Ho used as partial Dy substitutes (the bundled
  scrap file's assumption), split 60 / 40.
* Facilities that list ``other_heavy`` list its members instead; magnet grades are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rareflow.model.elements import ELEMENTS, INDIVIDUAL_ELEMENTS, OTHER_HEAVY_MEMBERS, Element
from rareflow.model.world import World

GROUP: Element = "other_heavy"
#: Members of ``other_heavy`` as tracked elements.
MEMBERS: tuple[Element, ...] = ("Eu", "Gd", "Ho", "Er", "Tm", "Yb", "Lu")
#: Member profile of light-REE ores (fractions of ``other_heavy``; after Mountain Pass).
LIGHT_PROFILE: dict[Element, float] = {"Eu": 0.35, "Gd": 0.60, "Ho": 0.02, "Er": 0.02,
                                       "Tm": 0.004, "Yb": 0.005, "Lu": 0.001}
#: Member profile of heavy-REE ores (fractions of ``other_heavy``; after Longnan clay).
HEAVY_PROFILE: dict[Element, float] = {"Eu": 0.01, "Gd": 0.40, "Ho": 0.09, "Er": 0.29,
                                       "Tm": 0.04, "Yb": 0.15, "Lu": 0.02}
#: Deposit classes whose ``other_heavy`` follows :data:`HEAVY_PROFILE`.
HEAVY_CLASSES = frozenset({"ionic_clay", "xenotime", "eudialyte", "coal_byproduct"})
#: Indicative relative oxide prices of the members (USD/kg, 2024 China; see the module text).
RELATIVE_PRICES: dict[Element, float] = {"Eu": 27.0, "Gd": 22.0, "Ho": 65.0, "Er": 40.0,
                                         "Tm": 100.0, "Yb": 14.0, "Lu": 750.0}
#: Split of ``other_heavy`` magnet scrap (Gd and Ho as partial Dy substitutes).
SCRAP_PROFILE: dict[Element, float] = {"Gd": 0.6, "Ho": 0.4}


def individual_elements(world: World) -> World:
    """``world`` with its ``other_heavy`` group split into the single rare earths.

    ``world`` must track the default elements; the result tracks
    :data:`~rareflow.model.elements.INDIVIDUAL_ELEMENTS`. World totals (tonnes mined, demanded,
    recycled) are unchanged; see the module text for how each group figure is split.
    """
    if world.elements != ELEMENTS:
        raise ValueError(f"expected a world over {ELEMENTS}, got {world.elements}")
    assert set(MEMBERS) == set(OTHER_HEAVY_MEMBERS)
    deposits = tuple(
        deposit.model_copy(update={"shares": _split(
            deposit.shares, HEAVY_PROFILE if deposit.deposit_class in HEAVY_CLASSES
            else LIGHT_PROFILE)})
        for deposit in world.deposits)
    supply = _member_supply(world)
    facilities = tuple(
        facility if facility.elements is None or GROUP not in facility.elements
        else facility.model_copy(update={"elements": _members_for(facility.elements)})
        for facility in world.facilities)
    demand = tuple(
        new_row for row in world.demand
        for new_row in ([row] if row.element != GROUP else [
            row.model_copy(update={"element": member, "tonnes": row.tonnes * weight})
            for member, weight in supply.items() if weight > 0]))
    mean_price = sum(RELATIVE_PRICES[member] * weight for member, weight in supply.items())
    prices = tuple(
        new_price for price in world.reference_prices
        for new_price in ([price] if price.element != GROUP else [
            price.model_copy(update={
                "element": member,
                "usd_per_kg": price.usd_per_kg * RELATIVE_PRICES[member] / mean_price})
            for member in MEMBERS]))
    scrap = tuple(
        new_row for row in world.scrap
        for new_row in ([row] if row.element != GROUP else [
            row.model_copy(update={"element": member, "t": row.t * weight})
            for member, weight in SCRAP_PROFILE.items()]))
    stockpiles = tuple(stock for stock in world.stockpiles if stock.element != GROUP)
    if len(stockpiles) != len(world.stockpiles):
        raise ValueError("a stockpile of other_heavy has no single member to hold")
    provenance = world.provenance.model_copy(update={
        "name": f"{world.provenance.name} (rare earths one by one)"})
    return World(**{**dict(world), "provenance": provenance, "elements": INDIVIDUAL_ELEMENTS,
                    "deposits": deposits, "facilities": facilities, "demand": demand,
                    "reference_prices": prices, "scrap": scrap})


def _split(shares: Mapping[Element, float], profile: Mapping[Element, float]) -> dict[
        Element, float]:
    """Deposit shares with the group's share spread over its members by ``profile``."""
    group = shares.get(GROUP, 0.0)
    split: dict[Element, float] = {e: s for e, s in shares.items() if e != GROUP}
    split.update({member: group * fraction for member, fraction in profile.items()})
    return split


def _members_for(elements: Iterable[Element]) -> tuple[Element, ...]:
    """A facility's element list with the group replaced by its members."""
    return tuple(member for e in elements
                 for member in (MEMBERS if e == GROUP else (e,)))


def _member_supply(world: World) -> dict[Element, float]:
    """Each member's share of the members' world supply at base-year mining nameplate."""
    capacity: dict[str, float] = {}
    for facility in world.facilities:
        if facility.stage == "mining" and facility.deposit is not None:
            capacity[facility.deposit] = capacity.get(facility.deposit, 0.0) + facility.nameplate_t
    totals = dict.fromkeys(MEMBERS, 0.0)
    for deposit in world.deposits:
        profile = HEAVY_PROFILE if deposit.deposit_class in HEAVY_CLASSES else LIGHT_PROFILE
        tonnes = capacity.get(deposit.id, 0.0) * deposit.shares.get(GROUP, 0.0)
        for member, fraction in profile.items():
            totals[member] += tonnes * fraction
    total = sum(totals.values())
    if total <= 0:
        return {member: 1.0 / len(MEMBERS) for member in MEMBERS}
    return {member: tonnes / total for member, tonnes in totals.items()}
