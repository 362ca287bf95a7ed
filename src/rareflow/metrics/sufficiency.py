"""Self-sufficiency of a region or group: share of consumption covered, and the year it holds.

The share is what trusted production covers of the group's consumption; the year is the first
from which that share stays at or above a threshold through the end of the run.

"Domestic + allied" counts the group's own production plus what it actually imports from allied
regions, not the allies' whole output (allies consume most of what they make). For a bloc-level
measure ("can the allies together supply themselves?") pass the whole bloc as ``members``.

Trusted supply is counted by origin, not by route: only material whose origin tag is not
``china`` (:data:`TRUSTED_ORIGIN`) counts, at home or from an ally. Chinese material that passed
through an ally, magnets an ally made from Chinese metal, and magnets made at home from Chinese
metal (the tag the 0.1 % de-minimis rule reads) are never domestic or allied supply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import xarray as xr

from rareflow.metrics._common import (
    Members,
    members_list,
    product_of,
    ratio,
    select_element,
    sum_regions,
    with_units,
)
from rareflow.metrics.contract import require
from rareflow.metrics.trade import imports_by_partner

#: Share of a group's demand that domestic + allied supply must cover (≥ 90 %) for the group to
#: count as self-sufficient: the default of every self-sufficiency year, probability and answer.
SUFFICIENCY_THRESHOLD: Final[float] = 0.9
#: The origin tag of supply that counts as trusted (domestic or allied): anything not
#: China-origin.
TRUSTED_ORIGIN: Final[str] = "other"


def self_sufficiency_share(
    ds: xr.Dataset,
    members: Members,
    stage: str,
    element: str | Sequence[str],
    *,
    allied_members: Sequence[str] | None = None,
) -> xr.DataArray:
    """Share of the group's consumption at ``stage`` covered by trusted production.

    Formula: ``share = (P_G[other] + M_A[other]) / C_G`` where ``P_G[other]`` = ``production`` at
    ``stage`` summed over the members, origin tag ``other`` only (China-origin material made
    into the stage's product at home is not self-sufficiency), ``M_A[other]`` = imports of the
    stage's product into the group from ``allied_members`` outside the group with origin tag
    ``other`` (Chinese material shipped through an ally does not count; 0 without allies) and
    ``C_G`` = ``consumption`` at ``stage`` summed over members. ``element`` is one name or a
    list (summed before dividing). Not clipped: above 1 means the group makes more than it
    uses. NaN where consumption is zero. Dims: year (+ draw). Units: fraction.
    """
    require(ds, "production", "consumption", "trade")
    group = members_list(members)
    production = sum_regions(ds["production"].sel(stage=stage, drop=True), group)
    supply = select_element(production.sel(origin=TRUSTED_ORIGIN, drop=True), element)
    allies = [region for region in allied_members or () if region not in set(group)]
    if allies:
        from_allies = imports_by_partner(ds, product_of(stage), group, by_origin=True).sel(
            exporter=allies, origin=TRUSTED_ORIGIN, drop=True)
        supply = supply + select_element(from_allies.sum("exporter"), element)
    consumption = select_element(
        sum_regions(ds["consumption"].sel(stage=stage, drop=True), group), element
    )
    return with_units(ratio(supply, consumption), "1", "self_sufficiency_share")


def sufficient_from(share: xr.DataArray, threshold: float) -> xr.DataArray:
    """Boolean per year: ``share ≥ threshold`` in that year *and every later year*.

    Formula: ``F[y] = ∧_{y' ≥ y} (share[y'] ≥ threshold)``; NaN shares (no consumption) count as
    not sufficient. Years are taken in ascending order. Dims: those of ``share``.
    """
    ordered = share.sortby("year")
    meets = (ordered >= threshold).astype(np.int8)
    reversed_years = meets.isel(year=slice(None, None, -1))
    holds = reversed_years.cumprod("year").isel(year=slice(None, None, -1))
    return holds.astype(bool).rename("sufficient_from")


def first_sufficient_year(share: xr.DataArray, threshold: float) -> xr.DataArray:
    """First year from which ``share ≥ threshold`` holds through the last year, NaN if never.

    Reduces the ``year`` dim (so an ensemble gives one year per draw). Units: year.
    """
    holds = sufficient_from(share, threshold)
    years = holds["year"].astype(float)
    first = years.where(holds).min("year", skipna=True)
    return with_units(first, "year", "self_sufficiency_year")


def self_sufficiency_year(
    ds: xr.Dataset,
    members: Members,
    stage: str,
    element: str | Sequence[str],
    threshold: float = SUFFICIENCY_THRESHOLD,
    allied_members: Sequence[str] | None = None,
) -> int | None:
    """First year from which the group stays self-sufficient through the last simulated year.

    Formula: ``min { y : share[y'] ≥ threshold for every y' ≥ y }`` with ``share`` from
    :func:`self_sufficiency_share` (domestic, or domestic + imports from ``allied_members``).
    A later dip below the threshold moves the answer past the dip. ``None`` if the share is
    below the threshold in the last year. For ensembles (a ``draw`` dim) use
    :func:`rareflow.metrics.ensemble.self_sufficiency_years` or
    :func:`~rareflow.metrics.ensemble.self_sufficiency_probability`.
    """
    share = self_sufficiency_share(ds, members, stage, element, allied_members=allied_members)
    if set(share.dims) != {"year"}:
        raise ValueError(
            f"self_sufficiency_year needs a single run (dims {tuple(share.dims)}); "
            "use rareflow.metrics.ensemble.self_sufficiency_years for ensembles"
        )
    first = float(first_sufficient_year(share, threshold))
    return None if np.isnan(first) else int(first)
