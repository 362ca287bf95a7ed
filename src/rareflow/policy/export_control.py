"""``export_control`` on the market: bans, quotas and licences on ship columns; technology bans.

Covered columns of a policy: ``oxide_ship`` and ``metal_ship`` of the controlled (tracked)
elements, ``magnet_ship`` of every grade whose recipe contains a controlled element, and
``conc_ship`` when ``concentrate`` is listed, from the ``exporter`` to each destination region
(``destinations`` expanded, minus ``except`` and the exporter). Any origin tag counts: an
export from China is controlled whatever was mined where. With ``de_minimis`` the same limits
also reach ship columns of China-origin material (tainted magnets, China-origin oxide and metal)
that third countries send to the destinations.

One row per (policy, product, element) sums the covered columns in t REO of the element
(magnets by recipe content), so ``quota`` and ``licence`` limits are linear and built once:

* ``ban``: a full-year ban sets the covered columns' upper bounds to zero; a partial year bounds
  the rows by ``(1 - active share) x reference``.
* ``licence``: rows bounded by ``(1 - blocked_fraction) x reference`` (the policy's
  :meth:`~rareflow.scenario.instruments.ExportControl.blocked_fraction` nets approval share and the
  first ``delay_months``). The *reference* volume of a row is what an unpolicied market would
  carry in the current year, estimated as: the row's flow in the last solved year in which the
  policy was not active (when the control is already active in the first simulated year, the
  flow of an unpolicied solve of that year), scaled by the growth of the policy's *covered
  demand* since that year - the destinations' demand for the controlled elements (oxide demand
  plus the element content of magnet demand, t REO; :func:`covered_demand`). So "50 % approval"
  licenses half of a market that grows with demand: it neither tightens as demand grows nor
  compounds year after year.
  Each licensed shipment also waits ``delay_months``: an extra cost of
  ``price x CARRYING_RATE x delay / 12`` USD/kg (times the active share) on covered columns,
  with ``price`` last year's price of the product at the exporter.
* ``quota`` (t REO/y): one row per policy over all its covered columns, bounded by the pro-rata
  quota plus the inactive part of the year's reference flow (scaled as above).

Precautionary buying: from the announcement to the end of a control, holders of inventories in
its destinations want :data:`~rareflow.engine.inventory.PRECAUTIONARY_COVER_YEARS` of cover of
the controlled elements instead of their normal cover: the steps of their stock-demand curve
are scaled up by the ratio (times the share of the year), so they buy ahead and sell the extra
stock once the control ends. Controls (and country trade halts) that threaten the same holders
in the same year do not add up: the largest share counts
(:func:`~rareflow.policy.precaution.raise_precaution`).

Technology controls: facilities in the destination regions flagged ``uses_chinese_technology``
in the facility data (plants built with Chinese separation equipment, contractors or process
know-how, and Chinese-invested plants abroad; each flag carries its source or assumption) and
not yet operating - planned, under construction, or operating with a later ``start_year`` (an
expansion) - get no capacity while the control is active (``1 - active share`` of it in a
partial year): their start or expansion waits until the control ends or is suspended, and
they then ramp from where their schedule stands. Operating plants keep running (spare parts
and reagents are not modelled); no extra cost or capacity cut is applied to them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rareflow.engine.inputs import YearInputs
from rareflow.engine.lpcore import INF
from rareflow.engine.network import SHIP_FAMILY, Network
from rareflow.engine.simulate import content_per_tonne
from rareflow.engine.yeartables import column_list, same_columns
from rareflow.model.world import World
from rareflow.policy.base import (
    PRICE_STAGE,
    AccountContext,
    Effect,
    Outcome,
    PricedRows,
    YearContext,
    traded_columns,
)
from rareflow.policy.precaution import WaryHolders, raise_precaution
from rareflow.scenario.instruments import ExportControl

ROWS = "policy_export_limit"
#: Yearly cost of holding goods while a licence is processed, as a share of their value.
#: Assumption: ~8 %/y cost of capital plus ~2 %/y storage and insurance.
CARRYING_RATE = 0.10
#: Blocked shares at or above this count as a full ban.
FULL = 1.0 - 1e-9


def covered_demand(network: Network, inputs: YearInputs, regions: list[str],
                   elements: list[str]) -> float:
    """Demand of ``regions`` for ``elements`` (t REO): oxide demand plus magnet content."""
    return _demand_of(inputs, regions, elements, sector_content(network, elements))


def sector_content(network: Network, elements: Sequence[str]) -> dict[str, float]:
    """Tonnes REO of ``elements`` per t of each magnet sector's demand (by its grade mix)."""
    content = content_per_tonne(network.world)
    content = content.loc[content.element.isin(list(elements))]
    per_sector = content.groupby("sector")["content"].sum()
    return {str(sector): float(value) for sector, value in per_sector.items()}


def _demand_of(inputs: YearInputs, regions: Sequence[str], elements: Sequence[str],
               content: dict[str, float]) -> float:
    return _CoveredRows(regions, elements, content)(inputs)


class _CoveredRows:
    """Which demand rows one policy covers, found again only when the tables' keys change.

    The year's demand tables share their key columns from year to year (see
    :func:`~rareflow.engine.yeartables.column_list`), so the rows and sector weights are
    worked out once per run instead of with ``isin`` over string columns every year.
    """

    def __init__(self, regions: Sequence[str], elements: Sequence[str],
                 content: dict[str, float]) -> None:
        self.regions, self.elements = set(regions), set(elements)
        self.content = content
        self._keys: list[list[object]] = []
        self._direct = np.zeros(0, dtype=bool)
        self._here = np.zeros(0, dtype=bool)
        self._weight = np.zeros(0)

    def __call__(self, inputs: YearInputs) -> float:
        """Covered demand (t REO) of ``inputs``: oxide demand plus magnet content."""
        oxide, magnets = inputs.oxide_demand, inputs.magnet_demand
        keys = [_key_column(oxide, "region"), _key_column(oxide, "element"),
                _key_column(magnets, "region"), _key_column(magnets, "sector")]
        if not same_columns(keys, self._keys):
            oxide_region, oxide_element, magnet_region, magnet_sector = keys
            self._direct = np.array([r in self.regions and e in self.elements
                                     for r, e in zip(oxide_region, oxide_element, strict=True)],
                                    dtype=bool)
            self._here = np.array([r in self.regions for r in magnet_region], dtype=bool)
            self._weight = np.array([self.content.get(str(sector), 0.0) for sector, here
                                     in zip(magnet_sector, self._here, strict=True) if here])
            self._keys = keys
        direct = oxide.quantity.to_numpy(dtype=float)[self._direct]
        embodied = magnets.quantity.to_numpy(dtype=float)[self._here] * self._weight
        return float(np.nansum(direct) + np.nansum(embodied))


def _key_column(table: pd.DataFrame, name: str) -> list[object]:
    return column_list(table, column_list.labels(table.columns).index(name))


class ExportControlEffect(Effect[ExportControl]):
    """Bans, quotas and licences on covered ship columns; technology bans on new capacity."""

    row_families = (ROWS,)
    order = 30

    def __init__(self, policies: Sequence[ExportControl], world: World) -> None:
        super().__init__(policies, world)
        self._wary = WaryHolders()

    def declare(self, network: Network) -> None:
        """One limit row per (policy, product, element); quotas one row per policy."""
        tables = [self._covered(network, policy) for policy in self.policies]
        columns = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
        if columns.empty:
            columns = pd.DataFrame(columns=["policy", "product", "element", "family", "local",
                                            "col", "coef", "row_product", "row_element"])
        quota = columns.policy.map({p.id: p.mode == "quota" for p in self.policies}).astype(bool)
        columns["row_product"] = np.where(quota, "*", columns["product"])
        columns["row_element"] = np.where(quota, "*", columns["element"])
        keys = columns[["policy", "row_product", "row_element"]].drop_duplicates()
        keys = keys.rename(columns={"row_product": "product", "row_element": "element"})
        family = network.lp.add_rows(ROWS, keys.reset_index(drop=True))
        rows = family.keys.assign(row_local=np.arange(family.size))
        terms = columns.merge(rows, left_on=["policy", "row_product", "row_element"],
                              right_on=["policy", "product", "element"], suffixes=("", "_row"))
        network.lp.add_terms(family.ids[terms.row_local.to_numpy(dtype=np.int64)],
                             terms.col.to_numpy(dtype=np.int64), terms.coef.to_numpy(dtype=float))
        self.columns = columns
        self.row_keys = family.keys
        self.term_rows = terms.row_local.to_numpy(dtype=np.int64)
        self.term_cols = terms.col.to_numpy(dtype=np.int64)
        self.term_coef = terms.coef.to_numpy(dtype=float)
        self.reference: np.ndarray = np.zeros(family.size)
        #: Covered demand (t REO) of each row's policy in the year its reference was observed.
        self.reference_demand: np.ndarray = np.zeros(family.size)
        self._delay_groups: dict[str, list[tuple[str, PricedRows, np.ndarray]]] = {}
        self._covered_rows: dict[tuple[str, tuple[str, ...]], _CoveredRows] = {}
        # Per policy, worked out once rather than with pandas every year: its rows, its
        # covered columns, and those columns' positions by ship family (for a full ban).
        self.policy_rows = {p.id: (family.keys.policy == p.id).to_numpy() for p in self.policies}
        self.policy_columns = {p.id: columns.loc[columns.policy == p.id] for p in self.policies}
        self.policy_bans = {
            policy_id: [(str(name), group.local.to_numpy(dtype=np.int64))
                        for name, group in cols.groupby("family")]
            for policy_id, cols in self.policy_columns.items()
        }

    def _covered(self, network: Network, policy: ExportControl) -> pd.DataFrame:
        """Covered ship columns of one policy with their t REO coefficients."""
        destinations = policy.destination_regions(network.world)
        elements = set(policy.tracked_elements())
        tables = []
        for product in policy.products:
            if product not in SHIP_FAMILY:
                continue
            table = traded_columns(network, product)
            into = table.importer.isin(destinations) & table.element.isin(elements)
            direct = table.exporter == policy.exporter
            tainted = (table.exporter != policy.exporter) & (table.origin == "china")
            covered = into & (direct | tainted) if policy.de_minimis else into & direct
            tables.append(table.loc[covered].assign(product=product,
                                                    family=SHIP_FAMILY[product]))
        if not tables:
            return pd.DataFrame()
        return pd.concat(tables, ignore_index=True).assign(policy=policy.id)

    def needs_reference(self) -> bool:
        """Only with limit rows: a technology-only control reads no reference flows or prices."""
        return len(self.row_keys) > 0

    def reset(self) -> None:
        """Forget reference volumes."""
        self.reference = np.zeros(len(self.row_keys))
        self.reference_demand = np.zeros(len(self.row_keys))

    def _demand(self, ctx: YearContext, policy: ExportControl) -> float:
        regions = tuple(policy.destination_regions(ctx.world))
        covered = self._covered_rows.get((policy.id, regions))
        if covered is None:  # the grade mixes are fixed: weigh each sector once per policy
            elements = list(policy.tracked_elements())
            covered = self._covered_rows[(policy.id, regions)] = _CoveredRows(
                regions, elements, sector_content(ctx.network, elements))
        return covered(ctx.inputs)

    def current_reference(self, ctx: YearContext, policy: ExportControl) -> np.ndarray:
        """Reference flows of ``policy``'s rows in ``ctx.year``: frozen flows x demand growth."""
        rows = self.policy_rows[policy.id]
        then = self.reference_demand[rows]
        now = self._demand(ctx, policy)
        growth = np.divide(now, then, out=np.ones_like(then), where=then > 0)
        return np.asarray(self.reference[rows] * growth, dtype=float)

    def adjust(self, ctx: YearContext) -> None:
        """Bound the limit rows, ban fully blocked flows, add licence delay costs, block tech."""
        lower, upper = ctx.rows(ROWS)
        for policy in self.policies:
            raise_precaution(ctx, policy.destination_regions(ctx.world),
                             policy.tracked_elements(), policy.precaution_fraction(ctx.year),
                             self._wary)
            active = policy.active_fraction(ctx.year)
            if active <= 0:
                continue
            if policy.controls_technology:
                self._block_technology(ctx, policy, active)
            rows = self.policy_rows[policy.id]
            reference = self.current_reference(ctx, policy)
            if policy.mode == "quota":
                quota = policy.quota_t(ctx.year) or 0.0
                upper[rows] = quota + (1.0 - active) * reference
                lower[rows] = -INF
                continue
            blocked = policy.blocked_fraction(ctx.year)
            upper[rows] = np.maximum(0.0, 1.0 - blocked) * reference
            if blocked >= FULL:
                for family, local in self.policy_bans[policy.id]:
                    ctx.ban(family, local)
            if policy.mode == "licence" and policy.delay_months > 0:
                self._delay_cost(ctx, policy, self.policy_columns[policy.id], active)

    def _delay_cost(
        self, ctx: YearContext, policy: ExportControl, cols: pd.DataFrame, active: float
    ) -> None:
        groups = self._delay_groups.get(policy.id)
        if groups is None:  # the covered columns are fixed: group them once per policy
            unique = cols.drop_duplicates(["family", "local"])
            groups = [(str(product), PricedRows(group.reset_index(drop=True)),
                       group.local.to_numpy(dtype=np.int64))
                      for product, group in unique.groupby("product")]
            self._delay_groups[policy.id] = groups
        for product, rows, local in groups:
            if product == "magnet":
                price = ctx.magnet_price(rows, region="exporter")
            elif product in PRICE_STAGE:
                price = ctx.price(PRICE_STAGE[product], rows, region="exporter")
            else:
                continue
            cost = price * CARRYING_RATE * policy.delay_months / 12.0 * active
            ctx.add_cost(SHIP_FAMILY[product], local, cost)

    def _block_technology(self, ctx: YearContext, policy: ExportControl, active: float) -> None:
        covered = set(policy.destination_regions(ctx.world))
        for facility in ctx.world.facilities:
            not_yet = facility.status != "operating" or facility.start_year > ctx.year
            if facility.uses_chinese_technology and facility.country in covered and not_yet:
                keep = ctx.capacity.keep.get(facility.id, 1.0)
                ctx.capacity.keep[facility.id] = keep * (1.0 - active)

    def observe(self, col_value: np.ndarray, ctx: YearContext, uncontrolled: bool) -> None:
        """Refresh the reference flow of rows whose policy did not act this year."""
        flows = np.asarray(np.bincount(self.term_rows,
                                       weights=self.term_coef * col_value[self.term_cols],
                                       minlength=len(self.row_keys)), dtype=float)
        for policy in self.policies:
            if uncontrolled or policy.active_fraction(ctx.year) <= 0:
                rows = self.policy_rows[policy.id]
                self.reference[rows] = flows[rows]
                self.reference_demand[rows] = self._demand(ctx, policy)

    def account(self, ctx: AccountContext) -> Outcome:
        """Export controls carry no fiscal cost."""
        return Outcome()
