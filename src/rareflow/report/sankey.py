"""Sankey of one year's material flows by stage and region (t REO, all elements).

Mining → concentration → separation → metal → magnets → end use, plus recycling, stocks and
processing losses.

Regions are grouped: the largest ``max_regions`` by throughput (China always among them) keep
their own nodes, the rest become "Rest of world". Shipments between groups are traced from the
plant that made the material to the plant or user that took it with
:func:`rareflow.report.allocation.trace_pools`, element by element.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go
import xarray as xr

from rareflow.metrics.contract import require
from rareflow.model.world import World
from rareflow.report.allocation import Flows, add_flows, trace_pools
from rareflow.report.style import CHINA_COLOUR, NEUTRAL_COLOUR, base_layout, colour, with_alpha

Array = npt.NDArray[np.float64]

#: Node columns, left to right (x position in the Sankey, 0–1).
COLUMNS: dict[str, float] = {
    "mining": 0.001,
    "concentration": 0.2,
    "separation": 0.4,
    "recycling": 0.4,
    "metal": 0.6,
    "magnet": 0.8,
    "use": 0.999,
}
STAGE_LABELS: dict[str, str] = {
    "mining": "Mining",
    "concentration": "Concentration",
    "separation": "Separation",
    "recycling": "Recycling",
    "metal": "Metal",
    "magnet": "Magnets",
    "use": "End use",
}
SCRAP = "Scrap (end of life, swarf)"
RELEASE = "Drawn from stocks"
LOSSES = "Processing losses"
STOCKS = "Stored, stockpiled or disposed"
_AUX_COLUMNS: dict[str, float] = {SCRAP: 0.2, RELEASE: 0.2, LOSSES: 0.999, STOCKS: 0.999}
OTHER_REGIONS = "Rest of world"
_ROW = "ROW"  # the data's rest-of-world region always joins the rest group

#: Flows smaller than this share of the year's mining are left out (solver noise).
_NOISE = 1e-9


@dataclass(frozen=True)
class SankeyNode:
    """One Sankey node: a stage in a region group, or a source/sink shared by all groups."""

    key: Hashable
    label: str
    column: float
    group: int | None  # index into SankeyFlows.groups; None for shared nodes


@dataclass(frozen=True)
class SankeyFlows:
    """Nodes and links (source index, target index, t REO) of one year's flows."""

    year: int
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (label, member region ids)
    nodes: tuple[SankeyNode, ...]
    links: tuple[tuple[int, int, float], ...]
    china_group: int | None = None


def sankey_flows(
    result: xr.Dataset, world: World, year: int, *, max_regions: int = 7
) -> SankeyFlows:
    """The flows of ``year`` in ``result`` (one run, no ``draw`` dim), regions grouped."""
    require(result, "production", "consumption", "trade", "served", "concentrate_stored",
            "stockpile_release", "disposal")
    if "draw" in result.dims:
        raise ValueError("sankey_flows takes one run; select a draw first")
    ds = result.sel(year=year)
    regions = [str(r) for r in ds["region"].values]
    elements = [str(e) for e in ds["element"].values]
    production = _stage_array(ds["production"].sum("origin"), elements)
    use = _stage_array(ds["consumption"], elements)
    groups = _choose_groups(world, regions, production, use, max_regions)
    onehot = np.zeros((len(regions), len(groups)))
    for g, (_, members) in enumerate(groups):
        for region in members:
            onehot[regions.index(region), g] = 1.0

    def grouped(values: Array) -> Array:  # (region, element) → (group, element)
        result_array: Array = onehot.T @ values
        return result_array

    metal_in, oxide_end = _split_oxide_use(ds, world, production, use)
    release = _region_element(ds["stockpile_release"], elements)
    if "inventory_release" in ds.data_vars:  # buyers' and traders' oxide stocks
        release = release + _region_element(ds["inventory_release"], elements)
    stocks = _region_element(ds["disposal"], elements) + np.clip(-release, 0.0, None)
    trade = ds["trade"].sum("origin").transpose("product", "exporter", "importer", "element")
    # Mixed heavy concentrate (results from before it existed have none): made and refined
    # within separation; it moves between groups' separation nodes and its residue to stocks.
    heavy = "mixed_heavy_production" in ds.data_vars
    zeros = np.zeros((len(regions), len(elements)))
    heavy_made, heavy_refined, heavy_left = (
        _region_element(ds[name], elements) if heavy else zeros
        for name in ("mixed_heavy_production", "mixed_heavy_refined", "mixed_heavy_disposal"))

    gp = {stage: grouped(values) for stage, values in production.items()}
    gu = {stage: grouped(values) for stage, values in use.items()}
    n_groups = len(groups)
    flows: Flows = {}
    for g in range(n_groups):
        _add(flows, ("mining", g), ("concentration", g), gu["mining"][g].sum())
        _add(flows, SCRAP, ("recycling", g), gu["recycling"][g].sum())
        inputs = {
            "concentration": gu["mining"][g].sum(),
            "separation": gu["concentration"][g].sum() + grouped(heavy_refined)[g].sum()
            - grouped(heavy_made)[g].sum(),
            "metal": grouped(metal_in)[g].sum(),
            "magnet": gu["metal"][g].sum(),
            "recycling": gu["recycling"][g].sum(),
        }
        for stage, amount in inputs.items():
            _add(flows, (stage, g), LOSSES, amount - gp[stage][g].sum())

    pools: list[tuple[str, list[dict[Hashable, Array]], list[dict[Hashable, Array]]]] = [
        ("concentrate",
         [{("concentration", g): gp["concentration"][g]} for g in range(n_groups)],
         [{("separation", g): gu["concentration"][g],
           STOCKS: grouped(_region_element(ds["concentrate_stored"], elements))[g]}
          for g in range(n_groups)]),
        ("oxide",
         [{("separation", g): gp["separation"][g], ("recycling", g): gp["recycling"][g],
           RELEASE: grouped(np.clip(release, 0.0, None))[g]} for g in range(n_groups)],
         [{("metal", g): grouped(metal_in)[g], ("use", g): grouped(oxide_end)[g],
           STOCKS: grouped(stocks)[g]} for g in range(n_groups)]),
        ("metal",
         [{("metal", g): gp["metal"][g]} for g in range(n_groups)],
         [{("magnet", g): gu["metal"][g]} for g in range(n_groups)]),
        ("magnet",
         [{("magnet", g): gp["magnet"][g]} for g in range(n_groups)],
         [{("use", g): gu["magnet"][g]} for g in range(n_groups)]),
    ]
    if heavy:
        pools.append((
            "mixed_heavy",
            [{("separation", g): grouped(heavy_made)[g]} for g in range(n_groups)],
            [{("separation", g): grouped(heavy_refined)[g], STOCKS: grouped(heavy_left)[g]}
             for g in range(n_groups)]))
    for product, sources, uses in pools:
        shipped = trade.sel(product=product).values
        for e in range(len(elements)):
            group_trade = onehot.T @ shipped[:, :, e] @ onehot
            traced = trace_pools(
                [{k: float(v[e]) for k, v in pool.items()} for pool in sources],
                [{k: float(v[e]) for k, v in pool.items()} for pool in uses],
                group_trade,
            )
            # mixed heavy refined where it was made stays inside the separation node
            add_flows(flows, {key: value for key, value in traced.items() if key[0] != key[1]})
    china = next((g for g, (_, members) in enumerate(groups) if members == (world.china,)), None)
    return _assemble(year, groups, flows, float(production["mining"].sum()), china)


def sankey_figure(flows: SankeyFlows) -> go.Figure:
    """A Plotly Sankey of ``flows``: columns by stage, colours by region group."""
    group_colours = [
        CHINA_COLOUR if i == flows.china_group
        else NEUTRAL_COLOUR if label == OTHER_REGIONS
        else colour(i)
        for i, (label, _) in enumerate(flows.groups)
    ]
    node_colours = [
        "#5F6B7A" if node.group is None else group_colours[node.group] for node in flows.nodes
    ]
    ys = _node_heights(flows)
    link_colours = [
        with_alpha(node_colours[source], 0.35) for source, _, _ in flows.links
    ]
    sankey = go.Sankey(
        arrangement="snap",
        valueformat=",.0f",
        valuesuffix=" t REO",
        node={
            "label": [node.label for node in flows.nodes],
            "color": node_colours,
            "x": [node.column for node in flows.nodes],
            "y": ys,
            "pad": 8,
            "thickness": 14,
            "line": {"width": 0},
        },
        link={
            "source": [link[0] for link in flows.links],
            "target": [link[1] for link in flows.links],
            "value": [link[2] for link in flows.links],
            "color": link_colours,
        },
    )
    fig = go.Figure(sankey)
    base_layout(fig, f"Material flows through the supply chain, {flows.year} "
                     "(t REO, all elements)", height=720)
    fig.update_layout(margin={"l": 20, "r": 20, "t": 70, "b": 30})
    return fig


# -- helpers ----------------------------------------------------------------------------------

def _stage_array(da: xr.DataArray, elements: list[str]) -> dict[str, Array]:
    """``{stage: (region, element) array}`` of a (stage, region, element) variable."""
    ordered = da.transpose("stage", "region", "element").sel(element=elements)
    values = np.nan_to_num(ordered.values.astype(float))
    return {str(stage): values[i] for i, stage in enumerate(ordered["stage"].values)}


def _region_element(da: xr.DataArray, elements: list[str]) -> Array:
    values: Array = np.nan_to_num(
        da.transpose("region", "element").sel(element=elements).values.astype(float)
    )
    return values


def _split_oxide_use(
    ds: xr.Dataset, world: World, production: dict[str, Array], use: dict[str, Array]
) -> tuple[Array, Array]:
    """Oxide used by metal plants and by oxide end-use sectors, by (region, element).

    ``consumption`` at separation is both; the oxide sectors' ``served`` gives the second in
    total per region but not per element, so each region's metal-plant input is spread over
    elements in proportion to its metal output (its recovery is the same for every element).
    """
    oxide_sectors = [s.id for s in world.sectors if s.kind == "oxide"]
    sectors = [s for s in oxide_sectors if s in {str(x) for x in ds["sector"].values}]
    oxide_use = use["separation"]
    if sectors:
        served = ds["served"].sel(sector=sectors).sum("sector")
        end_total = np.nan_to_num(served.transpose("region").values.astype(float))
    else:
        end_total = np.zeros(oxide_use.shape[0])
    metal_total = np.clip(oxide_use.sum(axis=1) - end_total, 0.0, None)
    made = production["metal"]
    made_total = made.sum(axis=1)
    basis = np.where(made_total[:, None] > 0, made, oxide_use)
    basis_total = basis.sum(axis=1)
    share = np.divide(basis, basis_total[:, None], out=np.zeros_like(basis),
                      where=basis_total[:, None] > 0)
    metal_in = np.minimum(share * metal_total[:, None], oxide_use)
    return metal_in, oxide_use - metal_in


def _choose_groups(
    world: World, regions: list[str], production: dict[str, Array], use: dict[str, Array],
    max_regions: int,
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """China, then the regions with the largest shares, then everything else as one group.

    A region's score is the sum of its shares of world production at every stage and of world
    magnet use, so a large magnet maker counts as much as a large miner.
    """
    amounts = [values.sum(axis=1) for values in production.values()]
    amounts.append(use["magnet"].sum(axis=1))
    throughput = sum(
        (a / a.sum() if a.sum() > 0 else np.zeros_like(a) for a in amounts),
        start=np.zeros(len(regions)),
    )
    china = world.china if world.china in regions else None
    ranked = sorted(
        (r for r in regions if r not in (china, _ROW)),
        key=lambda r: (-float(throughput[regions.index(r)]), r),
    )
    keep = ([china] if china else []) + ranked[: max(max_regions - (1 if china else 0), 0)]
    keep = [r for r in keep if throughput[regions.index(r)] > 0 or r == china]
    names = {region.id: region.name for region in world.regions}
    groups: list[tuple[str, tuple[str, ...]]] = [(names.get(r, r), (r,)) for r in keep]
    rest = tuple(r for r in regions if r not in keep)
    if rest:
        groups.append((OTHER_REGIONS, rest))
    return tuple(groups)


def _add(flows: Flows, source: Hashable, target: Hashable, value: float) -> None:
    if value > 0:
        flows[(source, target)] = flows.get((source, target), 0.0) + float(value)


def _assemble(
    year: int, groups: tuple[tuple[str, tuple[str, ...]], ...], flows: Flows, scale: float,
    china_group: int | None,
) -> SankeyFlows:
    """Index the nodes that carry flow (in column, then group order) and number the links."""
    floor = _NOISE * max(scale, 1.0)
    kept = {key: value for key, value in flows.items() if value > floor}
    keys = {end for pair in kept for end in pair}
    nodes = [_node(key, groups) for key in keys]
    stage_order = list(COLUMNS)
    nodes.sort(key=lambda n: (
        n.column,
        n.group if n.group is not None else len(groups),
        stage_order.index(n.key[0]) if isinstance(n.key, tuple) else 0,
        n.label,
    ))
    index = {node.key: i for i, node in enumerate(nodes)}
    links = tuple(
        (index[source], index[target], value)
        for (source, target), value in sorted(kept.items(), key=lambda kv: (
            index[kv[0][0]], index[kv[0][1]]))
    )
    return SankeyFlows(year, groups, tuple(nodes), links, china_group)


def _node(key: Hashable, groups: tuple[tuple[str, tuple[str, ...]], ...]) -> SankeyNode:
    if isinstance(key, str):
        return SankeyNode(key, key, _AUX_COLUMNS[key], None)
    assert isinstance(key, tuple)
    stage, group = key
    return SankeyNode(key, f"{STAGE_LABELS[stage]} · {groups[group][0]}", COLUMNS[stage], group)


def _node_heights(flows: SankeyFlows) -> list[float]:
    """Vertical centres that stack each column's nodes in order, sized by their flow."""
    inflow = np.zeros(len(flows.nodes))
    outflow = np.zeros(len(flows.nodes))
    for source, target, value in flows.links:
        outflow[source] += value
        inflow[target] += value
    size = np.maximum(inflow, outflow)
    ys = [0.0] * len(flows.nodes)
    for column in sorted({node.column for node in flows.nodes}):
        members = [i for i, node in enumerate(flows.nodes) if node.column == column]
        total = float(sum(size[i] for i in members)) or 1.0
        gap = 0.04
        usable = 1.0 - gap * (len(members) + 1)
        top = gap
        for i in members:
            height = usable * size[i] / total
            ys[i] = min(max(top + height / 2, 0.001), 0.999)
            top += height + gap
    return ys
