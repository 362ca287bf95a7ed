"""The "answers" table: plain-language results of one run, one row per question.

Each row has a stable ``question`` (no numbers from the run in it, so two runs can be joined on
it), a plain-language ``answer``, the numeric ``value`` behind it, its ``unit`` and the
``definition`` of the metric it uses (which scope of import reliance, traced by origin or by
route, ...; the formulas are in ``docs/reliance.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd
import xarray as xr

from rareflow.metrics.crma import crma_compliance, third_country_shares
from rareflow.metrics.definitions import (
    DEF_COVER,
    DEF_EMBEDDED,
    DEF_EMBEDDED_ORIGIN,
    DEF_STAGE,
    DEF_TRACED,
    DEF_TRUSTED,
    DEF_USGS,
)
from rareflow.metrics.demand import demand_response, shortfall
from rareflow.metrics.fiscal import fiscal_cost
from rareflow.metrics.origin import china_origin_content
from rareflow.metrics.prices import prices
from rareflow.metrics.recycling import recycled_share
from rareflow.metrics.reliance import (
    embedded_net_import_reliance,
    embedded_reliance_by_origin,
    format_reliance,
    net_import_reliance,
    usgs_net_import_reliance,
)
from rareflow.metrics.shares import hhi, market_share
from rareflow.metrics.stockpile import stockpile_cover_months
from rareflow.metrics.sufficiency import SUFFICIENCY_THRESHOLD, self_sufficiency_year
from rareflow.metrics.targets import target_checks
from rareflow.model.world import World

COLUMNS: tuple[str, ...] = ("question", "answer", "value", "unit", "definition")

#: Elements whose embedded reliance is reported (heavy rare earths first).
EMBEDDED_ELEMENTS: tuple[str, ...] = ("Dy", "Tb", "NdPr")
#: Stages whose CRMA single-country share is reported with its suppliers.
CRMA_STAGES: tuple[str, ...] = ("separation", "magnet")


class WorldLike(Protocol):
    """What the answers need to know about regions: China's id and group membership.

    :class:`rareflow.model.world.World` satisfies it; :class:`Groups` does without loading data.
    """

    @property
    def china(self) -> str:
        """Id of the China region."""
        ...

    def group_members(self, group: str) -> list[str]:
        """Region ids in ``group`` (a region id is a group of one)."""
        ...


@dataclass(frozen=True)
class Groups:
    """Region groupings given directly: ``Groups(china="CHN", groups={"EU": ["DEU", "FRA"]})``.

    A name that is not a group is taken as a single region id.
    """

    china: str = "CHN"
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def group_members(self, group: str) -> list[str]:
        """Members of ``group``, or ``[group]`` when it is not a known group."""
        return list(self.groups.get(group, [group]))


def answers(
    ds: xr.Dataset,
    world_or_ids: WorldLike,
    *,
    region: str = "USA",
    allies: str | None = "allies",
    bloc: str | None = "EU",
    element: str = "NdPr",
    heavy: str = "Dy",
    years: Sequence[int] | None = None,
    threshold: float = SUFFICIENCY_THRESHOLD,
    fiscal_period: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Plain-language answers for one run (no ``draw`` dim), as a DataFrame.

    Columns: ``question``, ``answer``, ``value``, ``unit``. Rows (skipped when the data for them
    is absent): self-sufficiency year of ``region`` for ``element`` magnets (domestic, and
    domestic + imports from ``allies``, both counting supply by origin); per year in ``years``
    that the run has (default: its first and last year): defence shortfall (t magnet, and t
    ``heavy`` when a :class:`World` gives the recipes) and defence demand response (t magnet
    given up to prices above the reference; negative when lower prices raise use), China's
    share of production per stage and the HHI of separation and magnets, ``region``'s net
    import reliance per stage (oxide, metal, magnets), on the USGS compounds-and-metals scope
    and embedded (per element of :data:`EMBEDDED_ELEMENTS`, with its China-origin part; also
    for the ``bloc``), China-origin content of its magnets, recycled share, ``heavy``
    stockpile cover (embedded use), ``element`` oxide price inside/outside China, the
    ``bloc``'s CRMA shares by third country and the stated targets
    (:func:`~rareflow.metrics.targets.target_checks`); fiscal cost per instrument and in total
    over ``fiscal_period`` (default: the whole run). Percentages are stored as percent in
    ``value`` (unit ``%``); ``definition`` names the metric definition of each row.
    """
    if "draw" in ds.dims:
        raise ValueError("answers takes one run; select a draw or use rareflow.metrics.ensemble")
    all_years = sorted(int(year) for year in ds["year"].values)
    regions = {str(r) for r in ds["region"].values}
    members = [r for r in _members(world_or_ids, region) if r in regions]
    allied = [r for r in _members(world_or_ids, allies) if r in regions and r not in members]
    context = _Context(
        ds=ds,
        china=world_or_ids.china if world_or_ids.china in regions else None,
        region=region,
        members=members,
        element=element,
        heavy=heavy,
        rows=[],
    )
    if members:
        _sufficiency_rows(context, threshold, allied)
    defence = _defence_content(world_or_ids, heavy)
    eu = [r for r in _members(world_or_ids, bloc) if r in regions]
    chosen = set(years) & set(all_years) if years is not None else {all_years[0], all_years[-1]}
    hubs = _hubs(world_or_ids)
    for year in sorted(chosen):
        if members:
            _region_rows(context, year, defence)
        _world_rows(context, year)
        if eu and bloc:
            _embedded_rows(context, year, bloc, eu)
            _crma_rows(context, year, bloc, eu, hubs)
    _target_rows(context, sorted(chosen), bloc, eu, hubs)
    if ds.sizes.get("instrument", 0):
        _fiscal_rows(context, fiscal_period or (all_years[0], all_years[-1]))
    return pd.DataFrame(context.rows, columns=list(COLUMNS))


@dataclass
class _Context:
    ds: xr.Dataset
    china: str | None
    region: str
    members: list[str]
    element: str
    heavy: str
    rows: list[dict[str, object]]

    def add(self, question: str, answer: str, value: float, unit: str,
            definition: str = "") -> None:
        self.rows.append({"question": question, "answer": answer, "value": value, "unit": unit,
                          "definition": definition})


def _sufficiency_rows(ctx: _Context, threshold: float, allied: list[str]) -> None:
    variants: list[tuple[str, list[str] | None]] = [("domestic", None)]
    if allied:
        variants.append(("domestic+allied", allied))
    for label, partners in variants:
        first = self_sufficiency_year(
            ctx.ds, ctx.members, "magnet", ctx.element, threshold, allied_members=partners
        )
        ctx.add(
            f"{ctx.region} {ctx.element} magnets: first year self-sufficient "
            f"(≥ {100 * threshold:.0f} % {label})",
            f"self-sufficient from {first}" if first is not None else "not self-sufficient",
            float(first) if first is not None else math.nan,
            "year",
            DEF_TRUSTED,
        )


def _region_rows(ctx: _Context, year: int, defence_content: float | None) -> None:
    ds, members, region = ctx.ds, ctx.members, ctx.region
    if "defence" in ds["sector"].values:
        short = float(shortfall(ds, members).sel(sector="defence", year=year))
        ctx.add(f"{region} defence magnet shortfall {year}", _tonnes(short, "t magnet"), short,
                "t magnet", "demand at the reference price not served")
        if defence_content is not None:
            content = short * defence_content
            ctx.add(f"{region} defence {ctx.heavy} shortfall {year}", _tonnes(content, "t"),
                    content, "t REO", "shortfall × recipe content")
        response = float(demand_response(ds, members).sel(sector="defence", year=year))
        ctx.add(f"{region} defence magnet demand response {year}", _response(response), response,
                "t magnet", "demand given up to prices above the reference")
    for stage, product in (("separation", "oxide"), ("metal", "metal"), ("magnet", "magnets")):
        nir = float(net_import_reliance(ds, stage, members, "total").sel(year=year))
        ctx.add(f"{region} import reliance for {product} {year}", _reliance(nir), 100 * nir, "%",
                f"{DEF_STAGE} ({product})")
    usgs = float(usgs_net_import_reliance(ds, members).sel(year=year))
    ctx.add(f"{region} import reliance for compounds and metals {year}", _reliance(usgs),
            100 * usgs, "%", DEF_USGS)
    _embedded_rows(ctx, year, region, members)
    origin = float(china_origin_content(ds, members).sel(year=year))
    ctx.add(f"{region} magnets that may contain China-origin material {year}", _percent(origin),
            100 * origin, "%", "magnet tonnes, proportional mixing of each region's pool")
    recycled = float(recycled_share(ds, members, "total").sel(year=year))
    ctx.add(f"{region} recycled share of oxide consumption {year}", _percent(recycled),
            100 * recycled, "%", "recycled oxide over oxide consumption")
    if ctx.heavy in ds["element"].values:
        cover = float(stockpile_cover_months(ds, members, ctx.heavy).sel(year=year))
        ctx.add(f"{region} {ctx.heavy} stockpile cover {year}",
                _number(cover, ".1f", " months"), cover, "months", DEF_COVER)


def _embedded_rows(ctx: _Context, year: int, name: str, members: list[str]) -> None:
    """Embedded-content reliance per element, and its China-origin part."""
    ds = ctx.ds
    for element in (e for e in EMBEDDED_ELEMENTS if e in ds["element"].values):
        nir = float(embedded_net_import_reliance(ds, members, element).sel(year=year))
        ctx.add(f"{name} embedded import reliance for {element} {year}", _reliance(nir),
                100 * nir, "%", DEF_EMBEDDED)
        china = float(embedded_reliance_by_origin(ds, members, element)
                      .sel(year=year, origin="china"))
        ctx.add(f"{name} China-origin net imports of embedded {element} {year}",
                _percent(china), 100 * china, "%", DEF_EMBEDDED_ORIGIN)


def _world_rows(ctx: _Context, year: int) -> None:
    ds, china = ctx.ds, ctx.china
    for stage in ("mining", "separation", "metal", "magnet"):
        if china is not None:
            share = float(market_share(ds, stage).sel(region=china, year=year))
            ctx.add(f"China share of {stage} {year}", _percent(share), 100 * share, "%",
                    "China's production over world production")
    for stage in ("separation", "magnet"):
        index = float(hhi(ds, stage).sel(year=year))
        ctx.add(f"HHI of {stage} {year}", _number(index, ",.0f"), index, "HHI (0-10000)",
                "Herfindahl-Hirschman index of production by region")
    if china is not None and ctx.element in ds["element"].values:
        two_tier = prices(ds, "separation", ctx.element, china=china).sel(year=year)
        for market in ("inside_china", "outside_china"):
            price = float(two_tier.sel(market=market))
            ctx.add(f"{ctx.element} oxide price {market.replace('_', ' ')} {year}",
                    _number(price, ",.1f", " USD/kg"), price, "USD/kg", "market-clearing price")


def _crma_rows(ctx: _Context, year: int, bloc: str, members: list[str],
               hubs: Sequence[str]) -> None:
    for stage in CRMA_STAGES:
        check = crma_compliance(ctx.ds, members, stage, reexport_hubs=hubs).sel(year=year)
        largest = float(check["largest_share"])
        supplier = str(check["largest_supplier"].values) or "none"
        verdict = "within" if bool(check["within_cap"]) else "above"
        shares = third_country_shares(ctx.ds.sel(year=[year]), members, stage,
                                      reexport_hubs=hubs)
        others = ", ".join(f"{name} {_percent(float(share))}"
                           for name, share in zip(shares["supplier"], shares["share"],
                                                  strict=True) if name != supplier)
        listed = f"; then {others}" if others else ""
        ctx.add(f"{bloc} largest single third-country share of {stage} {year}",
                f"{_percent(largest)} ({supplier}; {verdict} the 65 % cap{listed})",
                100 * largest, "%", DEF_TRACED)


def _target_rows(ctx: _Context, years: list[int], bloc: str | None, eu: list[str],
                 hubs: Sequence[str]) -> None:
    """One row per stated target and year: met or missed, with the value."""
    table = target_checks(ctx.ds, us_members=ctx.members if ctx.region == "USA" else None,
                          eu_members=eu if bloc == "EU" else None, reexport_hubs=hubs,
                          years=years)
    for record in table.to_dict(orient="records"):
        definition, note = str(record["definition"]), str(record["note"])
        scope = " (embedded)" if definition.startswith("embedded") else ""
        verdict = "met" if bool(record["met"]) else "missed"
        value = float(record["value"])
        if math.isnan(value):
            shown, note = "no consumption", ""
        elif definition in (DEF_USGS, DEF_EMBEDDED):
            shown = _reliance(value)  # a net exporter reads "E", as USGS prints it
        else:
            shown = _percent(value)
        extra = f"; {note}" if note else ""
        ctx.add(f"{record['region']} target: {record['target']}{scope} {int(record['year'])}",
                f"{verdict} ({shown}{extra})", 100 * value, "%", definition)


def _fiscal_rows(ctx: _Context, period: tuple[int, int]) -> None:
    start, end = period
    costs = fiscal_cost(ctx.ds, start, end)
    for instrument in costs["instrument"].values:
        cost = float(costs.sel(instrument=instrument))
        ctx.add(f"Fiscal cost of {instrument} {start}–{end}", _money(cost), cost, "USD million",
                "public outlay net of revenue")
    total = float(costs.sum())
    ctx.add(f"Total fiscal cost {start}–{end}", _money(total), total, "USD million",
            "public outlay net of revenue")


def _hubs(world: WorldLike) -> tuple[str, ...]:
    """The world's declared re-export hubs (none without a :class:`World`)."""
    return tuple(world.trade.reexport_hubs) if isinstance(world, World) else ()


def _reliance(nir: float) -> str:
    answer = format_reliance(nir)
    return "E (net exporter)" if answer == "E" else answer


def _members(world: WorldLike, name: str | None) -> list[str]:
    if name is None:
        return []
    try:
        return world.group_members(name)
    except ValueError:
        return []


def _defence_content(world: WorldLike, element: str) -> float | None:
    """Tonnes REO of ``element`` per t of defence magnet from the recipes (None if unknown)."""
    if not isinstance(world, World):
        return None
    try:
        sector = world.sector("defence")
        return sum(
            share * _content(world.magnet_grade(grade).content_kg_reo_per_t, element)
            for grade, share in sector.magnet_mix.items()
        ) / 1000.0
    except ValueError:
        return None


def _content(content: Mapping[Any, float], element: str) -> float:
    return float(content.get(element, 0.0))


def _format(value: float, render: Callable[[float], str]) -> str:
    return "n/a" if math.isnan(value) else render(value)


def _percent(share: float) -> str:
    return _format(share, lambda v: f"{100 * v:.0f} %")


def _tonnes(value: float, unit: str) -> str:
    return _format(value, lambda v: f"{v:,.0f} {unit}")


def _response(value: float) -> str:
    """A demand response in words: given up to high prices, or added by low ones."""
    if not math.isnan(value) and round(value) < 0:
        return f"{_tonnes(-value, 't magnet')} more used at prices below the reference"
    return f"{_tonnes(value, 't magnet')} given up to prices above the reference"


def _money(value: float) -> str:
    return _format(value, lambda v: f"${v:,.0f} M")


def _number(value: float, spec: str, suffix: str = "") -> str:
    return _format(value, lambda v: f"{v:{spec}}{suffix}")
