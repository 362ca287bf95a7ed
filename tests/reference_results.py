"""Reference for the fast ``to_dataset``: the original pandas implementation (groupby/reindex).

Kept verbatim (only renamed) so that tests can check the scatter-matrix version against a
straightforward computation of every result variable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.engine.inputs import YearInputs
from rareflow.engine.inventory import OPENING_ORIGIN, STOCK_ELASTICITY, cover_years
from rareflow.engine.lpcore import INF
from rareflow.engine.market import NORMAL_SHARE, MarketModel, Solution
from rareflow.engine.network import SWARF_SHARE, mixed_heavy_elements
from rareflow.model.demand_curve import curve_steps
from rareflow.model.elements import ORIGINS, STAGES

PRODUCTS = ("concentrate", "oxide", "metal", "magnet", "mixed_heavy")


def _values(model: MarketModel, solution: Solution, name: str) -> pd.DataFrame:
    family = model.network.col(name)
    table = family.keys.copy()
    table["value"] = solution.col_value[family.ids]
    return table


def _duals(model: MarketModel, solution: Solution, name: str) -> pd.DataFrame:
    family = model.network.row(name)
    table = family.keys.copy()
    table["value"] = solution.row_dual[family.ids]
    return table


def _array(
    table: pd.DataFrame,
    dims: Sequence[str],
    coords: dict[str, Sequence[object]],
    fill: float = 0.0,
    aggregate: str = "sum",
) -> xr.DataArray:
    """A DataArray over the full ``coords`` of ``dims`` from a tidy table with a ``value``."""
    full = pd.MultiIndex.from_product([list(coords[d]) for d in dims], names=list(dims))
    if table.empty:
        series = pd.Series(fill, index=full, dtype=float)
    else:
        grouped = table.groupby(list(dims))["value"].agg(aggregate)
        series = grouped.reindex(full, fill_value=fill).astype(float)
    shape = [len(coords[d]) for d in dims]
    return xr.DataArray(series.to_numpy().reshape(shape), dims=list(dims),
                        coords={d: list(coords[d]) for d in dims})


def reference_to_dataset(model: MarketModel, solution: Solution, year: int) -> xr.Dataset:
    """Assemble the result dataset of one solved year (length-1 ``year`` dimension)."""
    world, net = model.world, model.network
    assert model.inputs is not None
    inputs = model.inputs
    china = net.china
    fac = net.facilities.set_index("facility")
    shares = net.shares[["deposit", "deposit_region", "element", "share"]]
    recipes = net.recipes
    coords: dict[str, Sequence[object]] = {
        "stage": list(STAGES),
        "region": world.region_ids,
        "element": list(world.elements),
        "origin": list(ORIGINS),
        "product": list(PRODUCTS),
        "exporter": world.region_ids,
        "importer": world.region_ids,
        "sector": [s.id for s in world.sectors],
        "grade": [g.id for g in world.magnet_grades],
        "facility": [f.id for f in world.facilities],
    }

    def v(name: str) -> pd.DataFrame:
        return _values(model, solution, name)

    recovery = fac.recovery.astype(float)

    def recovered(table: pd.DataFrame) -> np.ndarray:
        return np.asarray(table.value * table.facility.map(recovery).to_numpy(dtype=float))

    def origin(region: pd.Series) -> np.ndarray:
        return np.where(region == china, "china", "other")

    mine = v("mine").merge(shares, on="deposit")
    mine = mine.assign(value=mine.value * mine.share, origin=origin(mine.region))
    conc = pd.concat([
        v("concentrate").assign(value=recovered),
        v("conc_direct"),
    ]).merge(shares, on="deposit")
    conc = conc.assign(value=conc.value * conc.share, origin=origin(conc.deposit_region))
    separated = _separated(model, solution)
    metal = v("metal_make")
    metal = metal.assign(value=recovered(metal),
                         origin=np.where(metal.region == china, "china", metal.origin))
    magnets = v("magnet_make").merge(recipes, on="grade_id")
    magnets = magnets.assign(value=magnets.value * magnets.content)
    recycled = v("recycle")
    recycled = recycled.assign(value=recovered(recycled),
                               origin=np.where(recycled.region == china, "china",
                                               recycled.origin))
    production = xr.concat(
        [_array(t, ["region", "element", "origin"], coords)
         for t in (mine, conc, separated, metal, magnets, recycled)],
        dim=pd.Index(list(STAGES), name="stage"),
    )

    trade_tables = _trade_tables(model, solution, shares, recipes)
    trade = xr.concat(
        [_array(t, ["exporter", "importer", "element", "origin"], coords) for t in trade_tables],
        dim=pd.Index(list(PRODUCTS), name="product"),
    )
    magnet_trade = _array(v("magnet_ship").rename(columns={"grade_id": "grade"}),
                          ["exporter", "importer", "grade"], coords)
    magnet_production = _array(v("magnet_make").rename(columns={"grade_id": "grade"}),
                               ["region", "grade", "origin"], coords)

    demand, served, substituted, choke = _demand_tables(model, solution)
    demand_da = _array(demand, ["region", "sector"], coords)
    served_da = _array(served, ["region", "sector"], coords)
    subs_da = _array(substituted, ["region", "sector"], coords)
    shortfall_da = np.maximum(_array(choke, ["region", "sector"], coords), 0.0)
    sell, buy = v("inventory_sell"), v("inventory_buy")
    sold = pd.concat([sell, buy.assign(value=-buy.value)])
    opening = sell.assign(value=model.inventory_opening)
    inventory_sold = _array(sold, ["region", "element"], coords)

    consumption = _consumption(model, solution, shares, recipes, coords)
    price = _prices(model, solution, coords)
    magnet_price = _array(
        _duals(model, solution, "magnet_balance").rename(columns={"grade_id": "grade"}),
        ["region", "grade"], coords, fill=np.nan, aggregate="min",
    )

    swarf = v("magnet_make").merge(recipes, on="grade_id")
    gross = 1.0 / (1.0 - SWARF_SHARE)
    swarf = swarf.assign(value=swarf.value * swarf.content * (gross - 1.0))
    scrap_available = _array(pd.concat([swarf, inputs.scrap.rename(columns={"t": "value"})]),
                             ["region", "element"], coords)
    release = v("stock_release")
    fill = v("stock_fill")
    net_release = pd.concat([release, fill.assign(value=-fill.value)])
    stock_level = inputs.stock.rename(columns={"level": "value"})[["region", "element", "value"]]
    level = _array(stock_level, ["region", "element"], coords) - _array(
        net_release, ["region", "element"], coords)
    facilities = pd.Index(list(coords["facility"]))
    capacity = inputs.capacity.reindex(facilities).fillna(0.0).to_numpy(dtype=float)

    data = {
        "production": production.transpose("stage", "region", "element", "origin"),
        "magnet_production": magnet_production,
        "trade": trade.transpose("product", "exporter", "importer", "element", "origin"),
        "magnet_trade": magnet_trade,
        "facility_output": xr.DataArray(_facility_output(model, solution, coords["facility"]),
                                        dims=["facility"],
                                        coords={"facility": coords["facility"]}),
        "facility_capacity": xr.DataArray(capacity, dims=["facility"],
                                          coords={"facility": coords["facility"]}),
        "demand": demand_da,
        "served": served_da - subs_da,
        "substituted": subs_da,
        "demand_response": demand_da - served_da - shortfall_da,
        "shortfall": shortfall_da,
        "consumption": consumption,
        "price": price,
        "magnet_price": magnet_price,
        "recycled": production.sel(stage="recycling").sum("origin"),
        "scrap_available": scrap_available,
        "stockpile_level": level,
        "stockpile_release": _array(net_release, ["region", "element"], coords),
        "inventory_level": _array(opening, ["region", "element"], coords) - inventory_sold,
        "inventory_release": inventory_sold,
        "disposal": _array(v("oxide_dispose"), ["region", "element"], coords),
        "concentrate_stored": _array(_stored(model, solution, shares), ["region", "element"],
                                     coords),
        "mixed_heavy_production": _array(_mixed_heavy_made(model, solution),
                                         ["region", "element"], coords),
        "mixed_heavy_refined": _array(_by_mix(model, v("heavy_refine")), ["region", "element"],
                                      coords),
        "mixed_heavy_disposal": _array(_by_mix(model, v("mixed_heavy_dispose")),
                                       ["region", "element"], coords),
        "off_grade_refined": _array(v("oxide_refine"), ["region", "element"], coords),
        "surplus": xr.DataArray(-solution.objective / 1000.0),
    }
    dataset = xr.Dataset(data).expand_dims(year=[year])
    _annotate(dataset)
    return _plain_coords(dataset)


def _plain_coords(dataset: xr.Dataset) -> xr.Dataset:
    """Label coordinates as plain numpy unicode arrays (not pandas' string extension dtype)."""
    labels = {
        name: np.asarray([str(v) for v in coord.values], dtype=str)
        for name, coord in dataset.coords.items()
        if coord.dtype.kind not in "iuf"
    }
    return dataset.assign_coords(labels)


def _stored(model: MarketModel, solution: Solution, shares: pd.DataFrame) -> pd.DataFrame:
    stored = _values(model, solution, "conc_store").merge(shares, on="deposit")
    return stored.assign(value=stored.value * stored.share)


def _separated(model: MarketModel, solution: Solution) -> pd.DataFrame:
    """Oxide output of separation plants (from concentrate and from mixed heavy concentrate)."""
    lp = model.lp
    row = model.network.row("oxide_balance")
    table = row.keys.copy()
    table["value"] = 0.0
    for family in ("separate", "heavy_refine"):
        sep = model.network.col(family)
        block = lp.matrix_csr()[row.ids][:, sep.ids]
        table["value"] += block.multiply(solution.col_value[sep.ids]).sum(axis=1).A.ravel()
    return table


def _mixed_heavy_made(model: MarketModel, solution: Solution) -> pd.DataFrame:
    """Mixed heavy concentrate made by light separation, by region and element: each separate
    column's feed × the deposit share of every SEG+HRE element the plant leaves × recovery."""
    net = model.network
    fac = net.facilities.set_index("facility")
    heavy = mixed_heavy_elements(model.world)
    left = {f.id: [e for e in heavy if e not in f.elements]
            for f in model.world.facilities if f.stage == "separation" and f.elements is not None}
    sep = _values(model, solution, "separate")
    sep = sep.loc[sep.facility.isin(list(left))]
    rows = []
    for facility, region, deposit, value in zip(sep.facility, sep.region, sep.deposit, sep.value,
                                                strict=True):
        shares = net.shares.loc[net.shares.deposit == deposit].set_index("element").share
        for element in left[facility]:
            rows.append({"region": region, "element": element,
                         "value": value * float(shares[element]) * float(fac.recovery[facility])})
    return pd.DataFrame(rows, columns=["region", "element", "value"])


def _by_mix(model: MarketModel, table: pd.DataFrame) -> pd.DataFrame:
    """A table of mixed heavy concentrate flows split into elements by the mix's shares."""
    table = table.merge(model.network.mixes[["mix", "element", "share"]], on="mix")
    return table.assign(value=table.value * table.share)


def _trade_tables(
    model: MarketModel, solution: Solution, shares: pd.DataFrame, recipes: pd.DataFrame
) -> list[pd.DataFrame]:
    conc = _values(model, solution, "conc_ship").merge(shares, on="deposit")
    conc = conc.assign(value=conc.value * conc.share, origin="other")
    oxide = _values(model, solution, "oxide_ship")
    metal = _values(model, solution, "metal_ship")
    magnet = _values(model, solution, "magnet_ship").merge(recipes, on="grade_id")
    magnet = magnet.assign(value=magnet.value * magnet.content)
    heavy = _by_mix(model, _values(model, solution, "mixed_heavy_ship"))
    return [conc, oxide, metal, magnet, heavy]


def _demand_tables(
    model: MarketModel, solution: Solution
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Reference demand (bounds / curve total), served, substituted, choke step left unserved."""
    served = pd.concat([_values(model, solution, "demand_block"),
                        _values(model, solution, "oxide_block")])
    ids = np.concatenate([model.network.col("demand_block").ids,
                          model.network.col("oxide_block").ids])
    total = served.sector.map({s.id: curve_steps(s.elasticity).total
                               for s in model.world.sectors})
    bound = model.col_upper[ids]
    demand = served.assign(value=bound / total.to_numpy(dtype=float))
    choke = served.assign(value=bound - served.value).loc[served.block == 0]
    substituted = _values(model, solution, "substitute")
    return demand, served, substituted, choke


def _consumption(
    model: MarketModel,
    solution: Solution,
    shares: pd.DataFrame,
    recipes: pd.DataFrame,
    coords: dict[str, Sequence[object]],
) -> xr.DataArray:
    """Use of each stage's product in each region (t REO)."""
    ore = pd.concat([_values(model, solution, "concentrate"),
                     _values(model, solution, "conc_direct")]).merge(shares, on="deposit")
    ore = ore.assign(value=ore.value * ore.share)
    conc = _values(model, solution, "separate").merge(shares, on="deposit")
    conc = conc.assign(value=conc.value * conc.share)
    oxide = pd.concat([_values(model, solution, "metal_make"),
                       _values(model, solution, "oxide_use")])
    metal = _values(model, solution, "magnet_metal_use")
    magnet = _values(model, solution, "magnet_use").merge(recipes, on="grade_id")
    magnet = magnet.assign(value=magnet.value * magnet.content)
    scrap = _values(model, solution, "recycle")
    tables = [ore, conc, oxide, metal, magnet, scrap]
    return xr.concat([_array(t, ["region", "element"], coords) for t in tables],
                     dim=pd.Index(list(STAGES), name="stage"))


def _prices(
    model: MarketModel, solution: Solution, coords: dict[str, Sequence[object]]
) -> xr.DataArray:
    """Duals of the balance rows as prices (USD/kg), per stage, region, element and origin."""
    conc = _duals(model, solution, "concentrate_balance").merge(
        model.network.shares[["deposit", "element", "share"]], on="deposit")
    # A concentrate's value per kg of a contained element is not separable; report the value
    # of a kg of concentrate REO under every element it contains.
    conc = conc.loc[conc.share > 0]
    conc = conc.assign(origin=np.where(conc.region == model.network.china, "china", "other"))
    oxide = _duals(model, solution, "oxide_balance")
    oxide = oxide.loc[oxide.grade == "hi"]
    metal = _duals(model, solution, "metal_balance")
    nan = pd.DataFrame(columns=["region", "element", "origin", "value"])
    tables = {"mining": nan, "concentration": conc, "separation": oxide, "metal": metal,
              "magnet": nan, "recycling": nan}
    arrays = [_array(tables[s], ["region", "element", "origin"], coords, fill=np.nan,
                     aggregate="max") for s in STAGES]
    return xr.concat(arrays, dim=pd.Index(list(STAGES), name="stage"))


def _facility_output(
    model: MarketModel, solution: Solution, facilities: Sequence[object]
) -> np.ndarray:
    """Activity of each facility in its capacity units (so output / capacity = utilisation)."""
    net = model.network
    rows = []
    for stage in ("mining", "concentration", "separation", "metal", "magnet", "recycling"):
        family = net.row(f"{stage}_capacity")
        activity = model.lp.matrix_csr()[family.ids] @ solution.col_value
        rows.append(pd.Series(activity, index=family.keys.facility.to_numpy()))
    series = pd.concat(rows) if rows else pd.Series(dtype=float)
    return series.reindex(pd.Index(list(facilities))).fillna(0.0).to_numpy(dtype=float)


UNITS = {
    "production": "t REO",
    "magnet_production": "t magnet",
    "trade": "t REO",
    "magnet_trade": "t magnet",
    "facility_output": "t/y (capacity units)",
    "facility_capacity": "t/y (capacity units)",
    "demand": "t (magnet t or t REO)",
    "served": "t (magnet t or t REO)",
    "substituted": "t (magnet t or t REO)",
    "demand_response": "t (magnet t or t REO)",
    "shortfall": "t (magnet t or t REO)",
    "consumption": "t REO",
    "price": "USD/kg",
    "magnet_price": "USD/kg magnet",
    "recycled": "t REO",
    "scrap_available": "t REO",
    "stockpile_level": "t REO",
    "stockpile_release": "t REO",
    "inventory_level": "t REO",
    "inventory_release": "t REO",
    "disposal": "t REO",
    "concentrate_stored": "t REO",
    "mixed_heavy_production": "t REO",
    "mixed_heavy_refined": "t REO",
    "mixed_heavy_disposal": "t REO",
    "off_grade_refined": "t REO",
    "surplus": "USD million",
}


def _annotate(dataset: xr.Dataset) -> None:
    for name, units in UNITS.items():
        if name in dataset:
            dataset[name].attrs["units"] = units


# --------------------------------------------------------------------------------------------
# Reference for the fast ``MarketModel.set_year``: the original pandas merges, returning the
# bound and cost vectors a year's inputs produce (without policy adjustments).


def reference_year_vectors(
    model: MarketModel, inputs: YearInputs
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(col lower, col upper, cost, row lower, row upper) for ``inputs``, via pandas merges."""
    net, col, row = model.network, model.network.col, model.network.row
    lower = np.zeros(model.lp.n_cols)
    upper = np.full(model.lp.n_cols, INF)
    cost = model._static_cost.copy()
    tariffs = model.world.trade.tariffs_in(inputs.year)
    if tariffs:
        for name, labels in model.tariff_labels.items():
            cost[col(name).ids] += labels.map(tariffs).fillna(0.0).to_numpy(dtype=float)
    row_lower = np.zeros(model.lp.n_rows)
    row_upper = np.zeros(model.lp.n_rows)

    for stage in ("mining", "concentration", "separation", "metal", "magnet", "recycling"):
        family = row(f"{stage}_capacity")
        caps = family.keys["facility"].map(inputs.capacity).fillna(0.0).to_numpy(dtype=float)
        floor = family.keys["facility"].map(
            net.facilities.set_index("facility")["min_utilisation"]).fillna(0.0)
        row_lower[family.ids] = np.where(floor > 0, floor * caps, -INF)
        row_upper[family.ids] = caps
    for product in ("metal", "magnet"):
        rows = row(f"reexport_{product}")
        hub = rows.keys.region.isin(model.world.trade.reexport_hubs).to_numpy()
        row_lower[rows.ids] = -INF
        row_upper[rows.ids] = np.where(hub, INF, 0.0)
    normal = row("normal_capacity")
    caps = normal.keys["facility"].map(inputs.capacity).fillna(0.0).to_numpy(dtype=float)
    row_lower[normal.ids] = -INF
    row_upper[normal.ids] = NORMAL_SHARE * caps

    make = col("magnet_make")
    clean_in_china = (make.keys.origin == "other") & (make.keys.region == net.china)
    upper[make.ids[clean_in_china.to_numpy()]] = 0.0
    clean = row("magnet_clean")
    row_upper[clean.ids] = INF

    world = model.world
    sectors = {sec.id: sec for sec in world.sectors}
    steps = {sec.id: curve_steps(sec.elasticity) for sec in world.sectors}
    blocks = col("demand_block").keys.merge(inputs.magnet_demand, on=["region", "sector"],
                                            how="left").fillna(0.0)
    width = [steps[sec].width[b] for sec, b in zip(blocks.sector, blocks.block, strict=True)]
    price = [steps[sec].price[b] * float(sectors[sec].reference_price_usd_per_kg or 0.0)
             for sec, b in zip(blocks.sector, blocks.block, strict=True)]
    ids = col("demand_block").ids
    upper[ids] = np.asarray(width) * blocks.quantity.to_numpy(dtype=float)
    cost[ids] = -np.asarray(price)

    subs = col("substitute")
    sub_cost = subs.keys.sector.map(inputs.substitution_cost).fillna(0.0)
    cost[subs.ids] = sub_cost.to_numpy(dtype=float)
    limit = row("substitute_limit")
    quantity = limit.keys.merge(inputs.magnet_demand, on=["region", "sector"], how="left")
    share = limit.keys.sector.map(inputs.substitution_available).fillna(0.0)
    row_lower[limit.ids] = -INF
    row_upper[limit.ids] = (quantity.quantity.fillna(0.0) * share).to_numpy(dtype=float)

    oxide = col("oxide_block").keys.merge(
        inputs.oxide_demand, on=["region", "sector", "element"], how="left").fillna(0.0)
    width = [steps[sec].width[b] for sec, b in zip(oxide.sector, oxide.block, strict=True)]
    price = [steps[sec].price[b] * (world.oxide_reference_price(e, r) or 0.0)
             for sec, e, r, b in zip(oxide.sector, oxide.element, oxide.region, oxide.block,
                                     strict=True)]
    ids = col("oxide_block").ids
    upper[ids] = np.asarray(width) * oxide.quantity.to_numpy(dtype=float)
    cost[ids] = -np.asarray(price)

    # inventories: target = cover × (oxide demand + magnet demand's gross element content)
    content = net.magnet_mix.merge(net.recipes, on="grade_id")
    content = content.assign(t=content.mix * content.content / (1.0 - SWARF_SHARE))
    use = inputs.magnet_demand.merge(content, on="sector")
    use = pd.concat([
        use.assign(value=use.quantity * use.t)[["region", "element", "value"]],
        inputs.oxide_demand.rename(columns={"quantity": "value"})[["region", "element", "value"]],
    ]).groupby(["region", "element"])["value"].sum()
    holding = row("inventory_holding")
    target = pd.MultiIndex.from_frame(holding.keys).map(use.to_dict()).to_numpy(dtype=float)
    target = np.where(np.isnan(target), 0.0, target) * cover_years(
        holding.keys.region.to_numpy(), net.china)
    cells = zip(holding.keys.region, holding.keys.element, strict=True)
    target_of = dict(zip(cells, target, strict=True))
    stock_steps = curve_steps(STOCK_ELASTICITY)
    inv = col("inventory_block")
    upper[inv.ids] = [stock_steps.width[b] * target_of[(r, e)] for r, e, b in
                      zip(inv.keys.region, inv.keys.element, inv.keys.block, strict=True)]
    cost[inv.ids] = [-stock_steps.price[b] * (world.oxide_reference_price(e, r) or 0.0)
                     for r, e, b in zip(inv.keys.region, inv.keys.element, inv.keys.block,
                                        strict=True)]
    sell = col("inventory_sell")
    opening = (np.array([target_of[(r, e)] if o == OPENING_ORIGIN else 0.0 for r, e, o in
                         zip(sell.keys.region, sell.keys.element, sell.keys.origin, strict=True)])
               if inputs.inventory is None else np.asarray(inputs.inventory))
    upper[sell.ids] = opening
    held = sell.keys.assign(value=opening).groupby(["region", "element"])["value"].sum()
    rhs = -pd.MultiIndex.from_frame(holding.keys).map(held.to_dict()).to_numpy(dtype=float)
    row_lower[holding.ids] = rhs
    row_upper[holding.ids] = rhs

    scrap = row("scrap_balance")
    eol = scrap.keys.merge(inputs.scrap, on=["region", "element", "origin"], how="left")
    rhs = eol["t"].fillna(0.0).to_numpy(dtype=float)
    row_lower[scrap.ids] = rhs
    row_upper[scrap.ids] = rhs

    keys = ["region", "element", "origin"]
    release, fill = col("stock_release"), col("stock_fill")
    stock = release.keys.merge(inputs.stock, on=keys, how="left").fillna(0.0)
    upper[release.ids] = stock.level.to_numpy(dtype=float)
    cost[release.ids] = stock.release_price.to_numpy(dtype=float)
    lower[fill.ids] = stock.fill_min.to_numpy(dtype=float)
    upper[fill.ids] = np.maximum(stock.fill_max.to_numpy(dtype=float),
                                 stock.fill_min.to_numpy(dtype=float))
    return lower, upper, cost, row_lower, row_upper
