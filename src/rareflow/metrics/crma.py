"""EU Critical Raw Materials Act (Regulation (EU) 2024/1252) benchmarks for a group.

Art. 5: by 2030 the Union should (a) extract 10 %, (b) process 40 % and (c) recycle 25 % of its
annual consumption of strategic raw materials, and (d) source no more than 65 % of its annual
consumption of each strategic raw material, at any relevant stage of processing, from a single
third country. Here processing is separation (oxide) and recycling is recycled oxide, both
against consumption at the oxide stage.
"""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr

from rareflow.metrics._common import (
    TOTAL,
    ElementSel,
    members_list,
    product_of,
    ratio,
    select_element,
    sum_regions,
    with_units,
)
from rareflow.metrics.contract import require
from rareflow.metrics.recycling import recycled_share
from rareflow.metrics.trade import imports_by_partner

PROCESSING_BENCHMARK = 0.40
RECYCLING_BENCHMARK = 0.25


def crma_compliance(
    ds: xr.Dataset,
    members: Sequence[str],
    stage: str,
    cap: float = 0.65,
    *,
    element: ElementSel = TOTAL,
    processing_benchmark: float = PROCESSING_BENCHMARK,
    recycling_benchmark: float = RECYCLING_BENCHMARK,
) -> xr.Dataset:
    """CRMA checks for a group (e.g. the EU members) at ``stage``, per year.

    Variables (fractions unless stated):

    - ``largest_share`` = ``max_{e ∉ G} M[e] / C_G`` — imports of the stage's product from the
      largest single third country over the group's ``consumption`` at ``stage``;
      ``largest_supplier`` its id (``""`` when nothing is imported); ``within_cap`` =
      ``largest_share ≤ cap``.
    - ``processing_share`` = ``P_G[separation] / C_G[separation]`` and ``processing_ok`` =
      ``≥ processing_benchmark`` (40 %).
    - ``recycling_share`` = ``recycled_G / C_G[separation]`` and ``recycling_ok`` =
      ``≥ recycling_benchmark`` (25 %).

    ``element`` defaults to ``"total"`` (all rare earths as one material); None keeps the element
    dim. Shares are NaN and checks False where consumption is zero. Dims: year (+ element, draw).
    """
    require(ds, "trade", "consumption", "production", "recycled")
    group = members_list(members)
    consumption = select_element(
        sum_regions(ds["consumption"].sel(stage=stage, drop=True), group), element
    )
    by_partner = select_element(imports_by_partner(ds, product_of(stage), group), element)
    shares = ratio(by_partner, consumption)
    if by_partner.sizes["exporter"] == 0:
        largest = xr.full_like(consumption, 0.0).where(consumption != 0)
        supplier = xr.full_like(consumption, "", dtype=object)
    else:
        largest = shares.max("exporter", skipna=False)
        supplier = by_partner.idxmax("exporter").where(by_partner.max("exporter") > 0, "")
    oxide_consumption = select_element(
        sum_regions(ds["consumption"].sel(stage="separation", drop=True), group), element
    )
    processed = select_element(
        sum_regions(ds["production"].sel(stage="separation", drop=True), group).sum("origin"),
        element,
    )
    processing = ratio(processed, oxide_consumption)
    recycling = recycled_share(ds, group, element)
    return xr.Dataset(
        {
            "largest_share": with_units(largest, "1"),
            "largest_supplier": supplier.astype(str),
            "within_cap": largest <= cap,
            "processing_share": with_units(processing, "1"),
            "processing_ok": processing >= processing_benchmark,
            "recycling_share": with_units(recycling, "1"),
            "recycling_ok": recycling >= recycling_benchmark,
        },
        attrs={
            "cap": cap,
            "processing_benchmark": processing_benchmark,
            "recycling_benchmark": recycling_benchmark,
            "stage": stage,
        },
    )
