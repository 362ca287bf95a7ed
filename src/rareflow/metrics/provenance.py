"""Where the material a region consumes at a stage was produced, traced through trade.

The exporter of a shipment is a poor guide to where material was made: a region can re-export
what it imports, and shipments can pass through several regions before they are used. Here the
product of a stage is traced back to the region that produced it (separated or recycled the
oxide, reduced the metal, made the magnet, concentrated the ore) under *proportional mixing*:
everything that leaves a node - shipments, own use, disposal, stock filling - has the
composition of everything that entered it.

Nodes are (region, origin tag): shipments keep their tag, so China-origin material passing
through a third country stays apart from that country's own output. A node's pool is its own
production plus its imports; with ``F[n, p]`` the share of node ``n``'s pool produced in region
``p``, ``P[n]`` its production and ``T[m, n]`` the shipments from ``m`` to ``n``::

    pool[n] · F[n, p] = P[n] · [region(n) = p] + Σ_m T[m, n] · F[m, p]

one small linear system per year, element (and draw). A region's consumption is split by the
shares of what its nodes keep (pool minus exports).

The rule of origin (``docs/reliance.md``): metal and magnets are exported only by the region
that made them, except from declared re-export hubs (``trade.reexport_hubs``). So for those
products a node outside the hubs ships its *own output first* (``a = min(own, exports)``, the
part of its exports that is its own make; only a balance-breaking excess is mixed), and what it
imports stays at home. Oxide and concentrate mix as above: oxide may be re-exported, and the
origin tag kept by every shipment keeps China-origin oxide apart from a transit country's own.
With ``a[m]`` and ``b[m] = exports[m] − a[m]``::

    pool[n] · F[n, p] = P[n] · [region(n) = p]
                        + Σ_m T[m, n] · (a[m] · [region(m) = p] + b[m] · F[m, p]) / exports[m]

and a node keeps ``pool[n] · F[n] − a[n] · e_region(n) − b[n] · F[n]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import xarray as xr

from rareflow.metrics._common import (
    TOTAL,
    ElementSel,
    Members,
    members_list,
    product_of,
    ratio,
    select_element,
    sum_regions,
    with_units,
)
from rareflow.metrics.contract import STOCKPILE_STAGE, require

#: Stage whose ``production`` (and ``consumption``) measures the traded product of a stage: the
#: concentrate is what mining regions ship, and ore is never traded.
PRODUCT_STAGE: Final[dict[str, str]] = {
    "mining": "concentration",
    "concentration": "concentration",
    "separation": "separation",
    "metal": "metal",
    "magnet": "magnet",
}
#: Products that obey the rule of origin (exporters ship their own make first).
OWN_OUTPUT_FIRST: Final[frozenset[str]] = frozenset({"metal", "magnet"})
#: Relative slack on each node's pool: keeps the system strictly diagonally dominant (so
#: solvable) when rounding in the LP leaves exports a hair above a node's supply.
_SLACK: Final[float] = 1e-9
#: Linear systems solved at once (bounds memory for large ensembles).
_CHUNK: Final[int] = 2048


def product_stage(stage: str) -> str:
    """Stage whose ``production``/``consumption`` measure the traded product of ``stage``."""
    product_of(stage)  # raises a clear error for stages with no traded product
    return PRODUCT_STAGE[stage]


def sourced_consumption(
    ds: xr.Dataset, stage: str, *, reexport_hubs: Sequence[str] = ()
) -> xr.DataArray:
    """Every region's consumption of a stage's product, split by the region that produced it.

    Produced means: by the region's own plants at :func:`product_stage` (for oxide also its
    recycled oxide and strategic-stock releases). Formula in the module docstring: metal and
    magnets follow the rule of origin (own output shipped first) except in ``reexport_hubs``,
    whose shipments mix like oxide. In a dataset
    whose balances do not close, supply a region ships or uses beyond what it produced and
    imported is counted as its own. The sum over ``source`` equals ``consumption``. Dims:
    (year, region, element, source) plus any ``draw``. Units: t REO.
    """
    require(ds, "production", "trade", "consumption")
    data_stage = product_stage(stage)
    regions = [str(region) for region in ds["region"].values]
    origins = [str(origin) for origin in ds["origin"].values]
    produced = _own_supply(ds, data_stage)
    trade = (
        ds["trade"]
        .sel(product=product_of(stage), drop=True)
        .reindex(exporter=regions, importer=regions, fill_value=0.0)
    )
    consumption = ds["consumption"].sel(stage=data_stage, drop=True)
    batch = [str(dim) for dim in consumption.dims if dim != "region"]
    p = produced.transpose(*batch, "region", "origin").values
    t = trade.transpose(*batch, "exporter", "importer", "origin").values
    c = consumption.transpose(*batch, "region").values
    shape = c.shape[:-1]
    n_regions, n_origins = len(regions), len(origins)
    flat_p = np.clip(p.reshape(-1, n_regions, n_origins), 0.0, None)
    flat_t = np.clip(t.reshape(-1, n_regions, n_regions, n_origins), 0.0, None)
    hubs = set(reexport_hubs)
    own_first = np.array([product_of(stage) in OWN_OUTPUT_FIRST and region not in hubs
                          for region in regions])
    parts = [
        _composition(flat_p[i:i + _CHUNK], flat_t[i:i + _CHUNK], own_first)
        for i in range(0, flat_p.shape[0], _CHUNK)
    ]
    split = np.concatenate([part[0] for part in parts] or [np.zeros((0, n_regions, n_regions))])
    kept = np.concatenate([part[1] for part in parts] or [np.zeros((0, n_regions))])
    used = np.clip(c.reshape(-1, n_regions), 0.0, None)
    tonnes = np.minimum(used, kept)[:, :, None] * split
    # Use beyond what a region kept (an unbalanced dataset) is taken as the region's own.
    index = np.arange(n_regions)
    tonnes[:, index, index] += np.clip(used - kept, 0.0, None)
    coords = {dim: consumption[dim].values for dim in batch}
    result = xr.DataArray(
        tonnes.reshape(*shape, n_regions, n_regions),
        dims=(*batch, "region", "source"),
        coords={**coords, "region": regions, "source": regions},
    )
    return with_units(result, "t REO", "sourced_consumption")


def sourcing_shares(
    ds: xr.Dataset,
    members: Members,
    stage: str,
    *,
    element: ElementSel = TOTAL,
    reexport_hubs: Sequence[str] = (),
) -> xr.DataArray:
    """Share of the group's consumption at ``stage`` produced in each region (members included).

    ``S[p] = Σ_{r ∈ G} sourced[r, p] / Σ_{r ∈ G} consumption[r]`` from
    :func:`sourced_consumption` (``reexport_hubs`` passed on); ``element`` follows the usual
    convention (``"total"`` weighs
    elements by consumption). Each share lies in [0, 1] and they sum to at most 1. NaN where the
    group consumes nothing. Dims: (year, source) (+ element, draw). Units: fraction.
    """
    group = members_list(members)
    data_stage = product_stage(stage)
    sourced = select_element(
        sum_regions(sourced_consumption(ds, stage, reexport_hubs=reexport_hubs), group), element)
    consumption = select_element(
        sum_regions(ds["consumption"].sel(stage=data_stage, drop=True), group), element
    )
    return with_units(ratio(sourced, consumption), "1", "sourcing_share")


def _own_supply(ds: xr.Dataset, data_stage: str) -> xr.DataArray:
    """Supply each (region, origin) node adds itself: production (+ recycling, stock release)."""
    produced = ds["production"].sel(stage=data_stage, drop=True)
    if data_stage == STOCKPILE_STAGE:
        produced = produced + ds["production"].sel(stage="recycling", drop=True)
        if "stockpile_release" in ds.data_vars and "other" in ds["origin"].values:
            # Stock was filled in earlier years; a release counts as the holder's own supply.
            release = ds["stockpile_release"].clip(min=0.0)
            is_other = xr.DataArray(ds["origin"].values == "other", dims="origin",
                                    coords={"origin": ds["origin"].values})
            produced = produced + release * is_other
    return produced


def _composition(produced: np.ndarray, trade: np.ndarray,
                 own_first: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Share of each region's kept supply by producing region, for a batch of networks.

    ``produced``: (batch, region, origin); ``trade``: (batch, exporter, importer, origin);
    ``own_first``: (region,) True where a region ships its own output first (the rule of
    origin), else every node mixes. Returns the shares (batch, region, source), rows summing to
    1 where the region keeps anything, and the tonnes each region keeps (batch, region).
    """
    batch, n_regions, n_origins = produced.shape
    n_nodes = n_regions * n_origins
    # node index = region * n_origins + origin; shipments only link nodes of the same origin
    flows = np.zeros((batch, n_nodes, n_nodes))
    for origin in range(n_origins):
        flows[:, origin::n_origins, origin::n_origins] = trade[..., origin]
    outflow = flows.sum(axis=2)
    own = produced.reshape(batch, n_nodes)
    # A node shipping more than it has (an unbalanced dataset) supplied the gap itself.
    own = own + np.clip(outflow - own - flows.sum(axis=1), 0.0, None)
    inflow = own + flows.sum(axis=1)
    node_region = np.repeat(np.arange(n_regions), n_origins)
    first = (np.zeros(n_nodes, dtype=bool) if own_first is None
             else np.repeat(np.asarray(own_first, dtype=bool), n_origins))
    own_part = np.where(first, np.minimum(own, outflow), 0.0)  # a: own make shipped
    mixed_part = outflow - own_part  # b: shipped with the pool's mix
    safe_out = np.where(outflow > 0.0, outflow, 1.0)
    pool = inflow * (1.0 + _SLACK)
    system = -np.swapaxes(flows * (mixed_part / safe_out)[:, :, None], 1, 2)
    diagonal = np.where(pool > 0.0, pool, 1.0)
    index = np.arange(n_nodes)
    system[:, index, index] += diagonal
    home = np.zeros((n_nodes, n_regions))
    home[index, node_region] = 1.0
    sources = own[:, :, None] * home
    sources += np.einsum("bmn,bm,mr->bnr", flows, own_part / safe_out, home)
    shares = np.clip(np.linalg.solve(system, sources), 0.0, None)
    # Every node's pool is fully explained; renormalise away the slack and rounding.
    sums = shares.sum(axis=2, keepdims=True)
    shares = np.divide(shares, sums, out=np.zeros_like(shares), where=sums > 0)
    kept_tonnes = (inflow - mixed_part)[:, :, None] * shares - own_part[:, :, None] * home
    kept_tonnes = np.clip(kept_tonnes, 0.0, None).reshape(batch, n_regions, n_origins, n_regions)
    kept = np.clip(inflow - outflow, 0.0, None).reshape(batch, n_regions, n_origins)
    weighted = kept_tonnes.sum(2)
    total = kept.sum(axis=2)
    shares_by_region = np.divide(weighted, total[..., None], out=np.zeros_like(weighted),
                                 where=total[..., None] > 0)
    return shares_by_region, total

