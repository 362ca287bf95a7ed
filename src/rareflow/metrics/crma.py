"""EU Critical Raw Materials Act (Regulation (EU) 2024/1252) benchmarks for a group.

Art. 5: by 2030 the Union should (a) extract 10 %, (b) process 40 % and (c) recycle 25 % of its
annual consumption of strategic raw materials, and (d) source no more than 65 % of its annual
consumption of each strategic raw material, at any relevant stage of processing, from a single
third country. Here processing is separation (oxide) and recycling is recycled oxide, both
against consumption at the oxide stage.

The single-supplier share is what the group *consumes* that was produced in one third country,
traced through trade (:mod:`rareflow.metrics.provenance`). Gross imports from a country over
consumption is not a share: a member can import material and re-export it (the market routes
oxide through hubs), and material can reach the group through a transit country, so that ratio
overstated the EU's Chinese supply (above 1000 % in the bundled runs) and credited transit
countries with Chinese output.

Origin, not route: the tracing follows the rule of origin the market obeys (metal and magnets
are exported by the region that made them, outside declared hubs; oxide keeps its China-origin
tag through any re-export), and the binding caps of ``sourcing_cap`` count the same way (China-
origin oxide against China whichever country ships it), so a cap cannot be met by relabelling.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import xarray as xr

from rareflow.metrics._common import (
    TOTAL,
    ElementSel,
    members_list,
    outside,
    ratio,
    select_element,
    sum_regions,
    with_units,
)
from rareflow.metrics.contract import require
from rareflow.metrics.provenance import sourcing_shares
from rareflow.metrics.recycling import recycled_share

EXTRACTION_BENCHMARK = 0.10
PROCESSING_BENCHMARK = 0.40
RECYCLING_BENCHMARK = 0.25
SINGLE_COUNTRY_CAP = 0.65
#: Rounding allowed on the cap: a cap the LP meets exactly can read 0.6500000001.
CAP_TOLERANCE = 1e-6


def crma_compliance(
    ds: xr.Dataset,
    members: Sequence[str],
    stage: str,
    cap: float = SINGLE_COUNTRY_CAP,
    *,
    element: ElementSel = TOTAL,
    extraction_benchmark: float = EXTRACTION_BENCHMARK,
    processing_benchmark: float = PROCESSING_BENCHMARK,
    recycling_benchmark: float = RECYCLING_BENCHMARK,
    reexport_hubs: Sequence[str] = (),
) -> xr.Dataset:
    """CRMA checks for a group (e.g. the EU members) at ``stage``, per year.

    Variables (fractions unless stated):

    - ``largest_share`` = ``max_{e ∉ G} S[e]`` with ``S[e]`` the share of the group's
      consumption of the stage's product that was produced in third country ``e``, traced
      through trade (:func:`~rareflow.metrics.provenance.sourcing_shares`: re-exports and
      transit do not count; stays in [0, 1]); ``largest_supplier`` its id (``""`` when nothing
      comes from outside); ``within_cap`` = ``largest_share ≤ cap`` (within 1e-6).
    - ``domestic_share`` = share of that consumption produced inside the group.
    - ``extraction_share`` = ``P_G[mining] / C_G[separation]`` (rare earths mined in the group
      over its oxide consumption) and ``extraction_ok`` = ``≥ extraction_benchmark`` (10 %).
    - ``processing_share`` = ``P_G[separation] / C_G[separation]`` and ``processing_ok`` =
      ``≥ processing_benchmark`` (40 %).
    - ``recycling_share`` = ``recycled_G / C_G[separation]`` and ``recycling_ok`` =
      ``≥ recycling_benchmark`` (25 %).

    ``element`` defaults to ``"total"`` (all rare earths as one material, elements weighed by
    consumption); None keeps the element dim. ``reexport_hubs``: regions allowed to re-export
    metal and magnets (the world's ``trade.reexport_hubs``), passed to the tracing. Processing
    and recycling shares are ratios to consumption as the Act words them, so above 1 means the
    group makes more than it uses.
    Shares are NaN and checks False where consumption is zero. Dims: year (+ element, draw).
    """
    require(ds, "trade", "consumption", "production", "recycled")
    group = members_list(members)
    sources = sourcing_shares(ds, group, stage, element=element, reexport_hubs=reexport_hubs)
    third = sources.sel(source=outside(sources, group, "source"))
    domestic = sources.sel(source=[s for s in group if s in sources["source"].values]).sum(
        "source", min_count=1
    )
    if third.sizes["source"] == 0:
        largest = xr.zeros_like(domestic).where(domestic.notnull())
        supplier = xr.full_like(domestic, "", dtype=object)
    else:
        largest = third.max("source", skipna=False)
        supplier = third.fillna(0.0).idxmax("source").where(third.max("source") > 0, "")
    oxide_consumption = select_element(
        sum_regions(ds["consumption"].sel(stage="separation", drop=True), group), element
    )
    processed = select_element(
        sum_regions(ds["production"].sel(stage="separation", drop=True), group).sum("origin"),
        element,
    )
    processing = ratio(processed, oxide_consumption)
    mined = select_element(
        sum_regions(ds["production"].sel(stage="mining", drop=True), group).sum("origin"),
        element,
    )
    extraction = ratio(mined, oxide_consumption)
    recycling = recycled_share(ds, group, element)
    return xr.Dataset(
        {
            "largest_share": with_units(largest, "1"),
            "largest_supplier": supplier.astype(str),
            "within_cap": largest <= cap + CAP_TOLERANCE,
            "domestic_share": with_units(domestic, "1"),
            "extraction_share": with_units(extraction, "1"),
            "extraction_ok": extraction >= extraction_benchmark,
            "processing_share": with_units(processing, "1"),
            "processing_ok": processing >= processing_benchmark,
            "recycling_share": with_units(recycling, "1"),
            "recycling_ok": recycling >= recycling_benchmark,
        },
        attrs={
            "cap": cap,
            "extraction_benchmark": extraction_benchmark,
            "processing_benchmark": processing_benchmark,
            "recycling_benchmark": recycling_benchmark,
            "stage": stage,
        },
    )


def third_country_shares(
    ds: xr.Dataset,
    members: Sequence[str],
    stage: str,
    *,
    element: ElementSel = TOTAL,
    reexport_hubs: Sequence[str] = (),
    smallest: float = 0.005,
) -> pd.DataFrame:
    """Which third country supplies what share of the group's consumption at ``stage``, by origin.

    Formula: ``S[e]`` of :func:`~rareflow.metrics.provenance.sourcing_shares` (share of the
    group's consumption of the stage's product produced in third country ``e``, traced through
    trade under the rule of origin) for every ``e ∉ G`` with ``S[e] ≥ smallest``. One run (no
    ``draw`` dim). Columns: ``year``, ``supplier``, ``share`` (fraction), largest first within
    each year.
    """
    group = members_list(members)
    sources = sourcing_shares(ds, group, stage, element=element, reexport_hubs=reexport_hubs)
    third = sources.sel(source=outside(sources, group, "source"))
    if "draw" in third.dims:
        raise ValueError("third_country_shares takes one run; select a draw first")
    table = third.to_series().rename("share").reset_index().rename(columns={"source": "supplier"})
    table = table.loc[table["share"] >= smallest]
    table["year"] = table["year"].astype(int)
    ordered = table.sort_values(["year", "share"], ascending=[True, False])
    return ordered[["year", "supplier", "share"]].reset_index(drop=True)
