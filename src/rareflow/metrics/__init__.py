"""rareflow.metrics: answers computed from result datasets (see ``docs/results.md``).

Every metric is a pure function of a result :class:`xarray.Dataset` (plus region ids where a
group is meant) and returns an :class:`xarray.DataArray` with ``attrs["units"]`` set, or a small
:class:`pandas.DataFrame` for tables. Extra dimensions such as an ensemble's ``draw`` pass
through unless a function says otherwise.
"""

from rareflow.metrics.answers import Groups, WorldLike, answers
from rareflow.metrics.compare import compare, key_series, to_csv, to_json
from rareflow.metrics.contract import RESULT_VARIABLES, STAGE_PRODUCT, contract_problems
from rareflow.metrics.crma import crma_compliance, third_country_shares
from rareflow.metrics.demand import demand_response, shortfall
from rareflow.metrics.ensemble import fan, self_sufficiency_probability, self_sufficiency_years
from rareflow.metrics.fiscal import fiscal_cost
from rareflow.metrics.origin import china_origin_content, pool_china_share
from rareflow.metrics.prices import prices
from rareflow.metrics.provenance import sourced_consumption, sourcing_shares
from rareflow.metrics.recycling import recycled_share
from rareflow.metrics.reliance import (
    apparent_consumption,
    embedded_net_import_reliance,
    embedded_reliance_by_origin,
    format_reliance,
    net_import_reliance,
    scope_apparent_consumption,
    usgs_net_import_reliance,
)
from rareflow.metrics.shares import hhi, market_share
from rareflow.metrics.stockpile import stockpile_cover_months
from rareflow.metrics.sufficiency import self_sufficiency_share, self_sufficiency_year
from rareflow.metrics.targets import target_checks
from rareflow.metrics.trade import exports, imports, imports_by_partner

__all__ = [
    "RESULT_VARIABLES",
    "STAGE_PRODUCT",
    "Groups",
    "WorldLike",
    "answers",
    "apparent_consumption",
    "china_origin_content",
    "compare",
    "contract_problems",
    "crma_compliance",
    "demand_response",
    "embedded_net_import_reliance",
    "embedded_reliance_by_origin",
    "exports",
    "fan",
    "fiscal_cost",
    "format_reliance",
    "hhi",
    "imports",
    "imports_by_partner",
    "key_series",
    "market_share",
    "net_import_reliance",
    "pool_china_share",
    "prices",
    "recycled_share",
    "scope_apparent_consumption",
    "self_sufficiency_probability",
    "self_sufficiency_share",
    "self_sufficiency_year",
    "self_sufficiency_years",
    "shortfall",
    "sourced_consumption",
    "sourcing_shares",
    "stockpile_cover_months",
    "target_checks",
    "third_country_shares",
    "to_csv",
    "to_json",
    "usgs_net_import_reliance",
]
