"""Small and random worlds for tests, examples and scaling studies (importable by users).

Stages and elements are the model's vocabularies; regions, sectors and magnet grades are data, so
the worlds' own are declared here, once each.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rareflow.model.elements import ELEMENTS, INDIVIDUAL_ELEMENTS, MAGNET_ELEMENTS, STAGES
from rareflow.model.world import World
from rareflow.testing.elements import RELATIVE_PRICES, individual_elements

_TEST = {"assumption": "synthetic test data"}


#: Reference oxide prices (USD/kg) of the test worlds, in both markets.
#: (Single heavy rare earths, Sc and Pm: for worlds that track the rare earths one by one.)
_OXIDE_REFERENCES: dict[str, float] = {
    "NdPr": 55.0, "Dy": 260.0, "Tb": 800.0, "Sm": 3.0, "La": 1.0, "Ce": 1.2, "Y": 6.0,
    "other_heavy": 20.0, "Sc": 700.0, "Pm": 20.0,
    **{str(element): price for element, price in RELATIVE_PRICES.items()}}


def _demand_curve(reference: float, elasticity: float = 0.3) -> dict[str, float]:
    return {"reference_price_usd_per_kg": reference, "elasticity": elasticity}


def _reference_prices(base_year: int = 2024,
                      elements: tuple[str, ...] = ELEMENTS) -> list[dict[str, Any]]:
    return [{"element": element, "market": market, "year": base_year,
             "usd_per_kg": _OXIDE_REFERENCES[element], **_TEST}
            for element in elements
            for market in ("china", "outside_china")]


def _grades() -> list[dict[str, Any]]:
    return [
        {"id": "std", "name": "standard NdFeB", "family": "ndfeb",
         "content_kg_reo_per_t": {"NdPr": 360.0}, **_TEST},
        {"id": "ht", "name": "high-temperature NdFeB", "family": "ndfeb",
         "content_kg_reo_per_t": {"NdPr": 300.0, "Dy": 45.0, "Tb": 6.0}, **_TEST},
        {"id": "smco", "name": "SmCo", "family": "smco",
         "content_kg_reo_per_t": {"Sm": 290.0}, **_TEST},
    ]


def _sectors() -> list[dict[str, Any]]:
    return [
        {"id": "ev", "name": "EV motors", "kind": "magnet", "magnet_mix": {"ht": 1.0},
         **_demand_curve(60.0), "growth": {2025: 0.08},
         "substitution": {"technology": "induction", "available_from": 2024, "max_share": 0.3,
                          "cost_usd_per_kg": 150.0}, **_TEST},
        {"id": "electronics", "name": "electronics", "kind": "magnet",
         "magnet_mix": {"std": 1.0}, **_demand_curve(45.0, 0.4), **_TEST},
        {"id": "defence", "name": "defence", "kind": "magnet",
         "magnet_mix": {"ht": 0.7, "smco": 0.3}, **_demand_curve(200.0, 0.05),
         "priority": 10, **_TEST},
        {"id": "other", "name": "catalysts, glass, phosphors", "kind": "oxide",
         "elasticity": 0.5, **_TEST},
    ]


#: Stage-specific fields of a random world's facilities (a stage not named needs none).
_STAGE_FIELDS: dict[str, dict[str, Any]] = {
    "concentration": {"feeds": ["*"]},
    "separation": {"feeds": ["*"]},
    "magnet": {"magnet_grades": ["std", "ht", "smco"]},
    "recycling": {"feeds": ["scrap"]},
}


def _facility(
    fid: str, country: str, stage: str, capacity: float, cost: float, **extra: Any
) -> dict[str, Any]:
    return {"id": fid, "name": fid, "operator": "test", "country": country, "stage": stage,
            "status": "operating", "nameplate_t": capacity, "start_year": 2000,
            "unit_cost_usd_per_kg": cost, **extra, **_TEST}


def tiny_world() -> World:
    """A four-region world (China, US, Australia, Japan) with every stage and sector."""
    shares_bast = {"NdPr": 0.16, "La": 0.33, "Ce": 0.49, "Sm": 0.01, "Y": 0.002,
                   "other_heavy": 0.007, "Dy": 0.0007, "Tb": 0.0003}
    shares_clay = {"NdPr": 0.25, "Dy": 0.06, "Tb": 0.01, "Y": 0.35, "La": 0.2, "Ce": 0.03,
                   "Sm": 0.03, "other_heavy": 0.07}
    data: dict[str, Any] = {
        "provenance": {"name": "tiny", "version": "test", "base_year": 2024},
        "regions": [
            {"id": "CHN", "name": "China", "is_china": True, **_TEST},
            {"id": "USA", "name": "United States", "groups": ["allies"], **_TEST},
            {"id": "AUS", "name": "Australia", "groups": ["allies"], **_TEST},
            {"id": "JPN", "name": "Japan", "groups": ["allies"], **_TEST},
        ],
        "deposits": [
            {"id": "cn_bast", "name": "CN bastnasite", "country": "CHN",
             "deposit_class": "bastnasite", "shares": shares_bast, **_TEST},
            {"id": "cn_clay", "name": "CN clay", "country": "CHN", "deposit_class": "ionic_clay",
             "shares": shares_clay, **_TEST},
            {"id": "us_bast", "name": "US bastnasite", "country": "USA",
             "deposit_class": "bastnasite", "shares": shares_bast, **_TEST},
            {"id": "au_mon", "name": "AU monazite", "country": "AUS",
             "deposit_class": "carbonatite_monazite",
             "shares": {"NdPr": 0.23, "La": 0.25, "Ce": 0.45, "Sm": 0.02, "Dy": 0.003,
                        "Tb": 0.001, "Y": 0.01, "other_heavy": 0.036}, **_TEST},
        ],
        "facilities": [
            _facility("cn_mine_bast", "CHN", "mining", 200_000, 2.0, deposit="cn_bast"),
            _facility("cn_mine_clay", "CHN", "mining", 20_000, 8.0, deposit="cn_clay"),
            _facility("us_mine", "USA", "mining", 45_000, 3.0, deposit="us_bast"),
            _facility("au_mine", "AUS", "mining", 12_000, 3.5, deposit="au_mon"),
            _facility("cn_conc", "CHN", "concentration", 230_000, 1.0, feeds=["*"]),
            _facility("us_conc", "USA", "concentration", 50_000, 1.2, feeds=["us_bast"]),
            _facility("cn_sep", "CHN", "separation", 300_000, 3.0, feeds=["*"], purity_pct=99.5),
            _facility("au_sep", "AUS", "separation", 12_000, 5.0, feeds=["au_mon"],
                      purity_pct=99.0),
            _facility("us_sep", "USA", "separation", 5_000, 6.0, feeds=["bastnasite"],
                      purity_pct=97.0, elements=["NdPr", "La", "Ce"]),
            _facility("cn_metal", "CHN", "metal", 120_000, 4.0),
            _facility("jp_metal", "JPN", "metal", 8_000, 6.0),
            _facility("us_metal", "USA", "metal", 2_000, 7.0,
                      elements=list(MAGNET_ELEMENTS)),
            _facility("cn_magnet", "CHN", "magnet", 280_000, 12.0,
                      magnet_grades=["std", "ht", "smco"]),
            _facility("jp_magnet", "JPN", "magnet", 10_000, 18.0, magnet_grades=["std", "ht"]),
            _facility("us_magnet", "USA", "magnet", 1_000, 20.0,
                      magnet_grades=["std", "ht", "smco"]),
            _facility("cn_recycle", "CHN", "recycling", 40_000, 4.0, feeds=["scrap"]),
            _facility("us_recycle", "USA", "recycling", 2_000, 6.0, feeds=["scrap"]),
        ],
        "magnet_grades": _grades(),
        "sectors": _sectors(),
        "demand": [
            # reference quantities roughly what the world's mines and recyclers supply at the
            # reference prices (NdPr and Dy both close to balance in 2024)
            {"region": "CHN", "sector": "ev", "year": 2024, "tonnes": 17_000, **_TEST},
            {"region": "CHN", "sector": "electronics", "year": 2024, "tonnes": 60_000, **_TEST},
            {"region": "USA", "sector": "ev", "year": 2024, "tonnes": 4_000, **_TEST},
            {"region": "USA", "sector": "defence", "year": 2024, "tonnes": 800, **_TEST},
            {"region": "JPN", "sector": "electronics", "year": 2024, "tonnes": 9_000, **_TEST},
            *[
                {"region": r, "sector": "other", "year": 2024, "element": e, "tonnes": t, **_TEST}
                for r, scale in (("CHN", 1.0), ("USA", 0.15), ("JPN", 0.1))
                for e, t in (("La", 60_000 * scale), ("Ce", 90_000 * scale),
                             ("Y", 8_000 * scale), ("NdPr", 5_000 * scale),
                             ("other_heavy", 3_000 * scale), ("Sm", 1_500 * scale),
                             ("Dy", 300 * scale), ("Tb", 100 * scale))
            ],
        ],
        "trade": {"transport_usd_per_kg": {"concentrate": 0.3, "oxide": 0.2, "metal": 0.2,
                                           "magnet": 0.5}, **_TEST},
        "stockpiles": [
            {"region": "JPN", "element": "Dy", "initial_t": 200, "capacity_t": 1000, **_TEST},
        ],
        "reference_prices": _reference_prices(),
    }
    return World.model_validate(data)


def random_world(seed: int, n_regions: int = 4, n_deposits: int = 3,
                 facilities_per_stage: int = 3, *, individual: bool = False) -> World:
    """A random but valid world: random regions, deposits, facilities and demand.

    Used by property tests (conservation must hold in any world) and by scaling studies. With
    ``individual`` the world tracks all 17 rare earths one by one
    (:data:`~rareflow.model.elements.INDIVIDUAL_ELEMENTS`) instead of the default groups.
    """
    elements = INDIVIDUAL_ELEMENTS if individual else ELEMENTS
    mined = tuple(e for e in elements if e != "Pm")  # no ore carries promethium
    rng = np.random.default_rng(seed)
    regions = [f"R{i:02d}" for i in range(n_regions - 1)]
    region_ids = ["CHN", *[_code(i) for i in range(len(regions))]]
    deposits = []
    for i in range(n_deposits):
        raw = rng.dirichlet(np.full(len(mined), 0.6))
        raw = np.round(raw, 6)
        raw[-1] = 1.0 - raw[:-1].sum()
        if raw[-1] < 0:
            raw = np.full(len(mined), 1.0 / len(mined))
        deposits.append({
            "id": f"dep{i}", "name": f"deposit {i}", "country": str(rng.choice(region_ids)),
            "deposit_class": str(rng.choice(["bastnasite", "ionic_clay", "monazite_sand"])),
            "shares": {e: float(s) for e, s in zip(mined, raw, strict=True)}, **_TEST,
        })
    facilities: list[dict[str, Any]] = []
    for d in deposits:
        facilities.append(_facility(f"mine_{d['id']}", str(d["country"]), "mining",
                                    float(rng.uniform(1e3, 1e5)), float(rng.uniform(1, 10)),
                                    deposit=d["id"]))
    for stage in STAGES:
        if stage == "mining":  # one mine per deposit, above
            continue
        extra = _STAGE_FIELDS.get(stage, {})
        for j in range(facilities_per_stage):
            country = str(rng.choice(region_ids))
            extra_here = dict(extra)
            if stage == "separation":
                extra_here["purity_pct"] = float(rng.choice([97.0, 99.5]))
                # odd plants separate light elements only (their heavy cut is a mixed heavy
                # concentrate); even ones also refine mixed heavy concentrate
                if j % 2:
                    extra_here["elements"] = ["NdPr", "La", "Ce"]
                else:
                    extra_here["mixed_heavy_feed"] = True
            facilities.append(_facility(
                f"{stage}_{j}", country, stage, float(rng.uniform(1e3, 1e5)),
                float(rng.uniform(1, 20)), recovery=float(rng.uniform(0.8, 1.0)), **extra_here))
    magnet_sectors = [sector["id"] for sector in _sectors() if sector["kind"] == "magnet"]
    demand: list[dict[str, Any]] = []
    for region in region_ids:
        for sector in magnet_sectors:
            if rng.random() < 0.7:
                demand.append({"region": region, "sector": sector, "year": 2024,
                               "tonnes": float(rng.uniform(100, 50_000)), **_TEST})
        for element in elements:
            if rng.random() < 0.5:
                demand.append({"region": region, "sector": "other", "year": 2024,
                               "element": element, "tonnes": float(rng.uniform(10, 20_000)),
                               **_TEST})
    data: dict[str, Any] = {
        "provenance": {"name": f"random-{seed}", "version": "test", "base_year": 2024},
        "regions": [{"id": r, "name": r, "is_china": r == "CHN", **_TEST} for r in region_ids],
        "deposits": deposits,
        "facilities": facilities,
        "magnet_grades": _grades(),
        "sectors": _sectors(),
        "demand": demand,
        "trade": {"transport_usd_per_kg": {"concentrate": float(rng.uniform(0.1, 1)),
                                           "oxide": 0.2, "metal": 0.2, "magnet": 0.5}, **_TEST},
        "stockpiles": [{"region": str(rng.choice(region_ids)), "element": "Dy",
                        "initial_t": 100.0, "capacity_t": 500.0, **_TEST}],
        "reference_prices": _reference_prices(elements=elements),
        "elements": elements,
    }
    return World.model_validate(data)


def _code(i: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "X" + letters[(i // 26) % 26] + letters[i % 26]


def scaled_world(world: World, copies: int = 2, twins: int = 1, *,
                 individual: bool = False) -> World:
    """A larger world made from ``world``, for scaling studies (not a forecast).

    Every region but China gets ``copies`` clones (new three-letter ids, same groups), each
    with a clone of the region's deposits, facilities and demand; every facility, China's
    included, also gets ``twins`` twins in its own region. Capacities and demand are split
    evenly between a thing and its clones, so world totals stay those of ``world``; tariffs
    and re-export hubs extend to the clones. With the defaults the bundled world (22 regions,
    101 facilities) becomes 64 regions and 378 facilities. The tracked elements stay those of
    ``world`` unless ``individual``: then its grouped heavy rare earths are first split into
    all 17 rare earths one by one (:func:`~rareflow.testing.elements.individual_elements`).
    """
    if individual:
        world = individual_elements(world)
    china = world.china
    taken = set(world.region_ids)
    fresh = (a + b + c for a in "QXZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
             for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    clone_ids: dict[str, list[str]] = {}
    regions = list(world.regions)
    for region in world.regions:
        if region.id == china:
            continue
        ids = clone_ids[region.id] = []
        for copy_index in range(copies):
            new_id = next(code for code in fresh if code not in taken)
            taken.add(new_id)
            ids.append(new_id)
            regions.append(region.model_copy(update={
                "id": new_id, "name": f"{region.name} ({copy_index + 2})"}))

    deposits = list(world.deposits)
    deposit_clones: dict[str, list[str]] = {}
    for original in world.deposits:
        for copy_index, region_id in enumerate(clone_ids.get(original.country, [])):
            new_id = f"{original.id}_c{copy_index + 1}"
            deposit_clones.setdefault(original.id, []).append(new_id)
            deposits.append(original.model_copy(update={"id": new_id, "country": region_id}))

    facilities = []
    for facility in world.facilities:
        places = [facility.country] * (1 + twins) + clone_ids.get(facility.country, [])
        share = 1.0 / len(places)
        for place_index, country in enumerate(places):
            copy_index = place_index - twins  # ≥ 1 in the region clones
            suffix = ("" if place_index == 0 else f"_t{place_index}" if copy_index < 1
                      else f"_c{copy_index}")
            deposit = facility.deposit
            if copy_index >= 1 and deposit in deposit_clones:
                deposit = deposit_clones[deposit][copy_index - 1]
            feeds = facility.feeds + tuple(clone for feed in facility.feeds
                                           for clone in deposit_clones.get(feed, []))
            facilities.append(facility.model_copy(update={
                "id": facility.id + suffix, "country": country, "deposit": deposit,
                "feeds": feeds, "nameplate_t": facility.nameplate_t * share,
                "capacity_t": {year: t * share for year, t in facility.capacity_t.items()},
            }))

    demand = []
    for row in world.demand:
        places = [row.region, *clone_ids.get(row.region, [])]
        demand += [row.model_copy(update={"region": region_id,
                                          "tonnes": row.tonnes / len(places)})
                   for region_id in places]

    def with_clones(region_id: str) -> list[str]:
        return [region_id, *clone_ids.get(region_id, [])]

    tariffs: dict[str, float] = {}
    tariff_years: dict[str, int] = {}
    for key, value in world.trade.tariffs_usd_per_kg.items():
        route, product = key.split(":")
        exporter, importer = route.split(">")
        for new_exporter in with_clones(exporter):
            for new_importer in with_clones(importer):
                new_key = f"{new_exporter}>{new_importer}:{product}"
                tariffs[new_key] = value
                if key in world.trade.tariffs_from_year:
                    tariff_years[new_key] = world.trade.tariffs_from_year[key]
    hubs = tuple(clone for hub in world.trade.reexport_hubs for clone in with_clones(hub))
    trade = world.trade.model_copy(update={"tariffs_usd_per_kg": tariffs,
                                           "tariffs_from_year": tariff_years,
                                           "reexport_hubs": hubs})
    provenance = world.provenance.model_copy(update={
        "name": f"{world.provenance.name} scaled ({copies} region copies, {twins} twins)"})
    return World(**{**dict(world), "provenance": provenance, "regions": tuple(regions),
                    "deposits": tuple(deposits), "facilities": tuple(facilities),
                    "demand": tuple(demand), "trade": trade})
