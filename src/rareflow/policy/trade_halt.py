"""``trade_halt`` on the market: a company's or country's sales to a destination stop.

One row per (policy, exporter region, product, element) with shipments to the destinations:

``sum(ship x coef) - sum(other producers' output x coef) <= upper``

* ``ship``: the product's ship columns from the exporter region to any destination region, with
  the t REO of the element each carries (:func:`~rareflow.policy.base.traded_columns`);
* other producers: for a company halt, the output columns of the exporter region's facilities
  *not* in the company that make the product (oxide: separation and recycling; concentrate:
  concentrators and concentrate passed on without one; mixed heavy concentrate: light
  separation). A country halt has none, so the row
  closes the flow. Products are fungible in a region, so the row says "the company's output goes
  elsewhere": the region may still send the destination what others make.
* ``upper`` = 0 in a year the halt covers entirely; in a year it covers only partly, the year's
  uncovered share times last year's (reference) flow of the product and element from the
  exporter to the destinations.

A country's halt also makes holders of inventories in the destinations want precautionary
cover of the halted elements for the part of the year it lasts (as an export control does;
:func:`~rareflow.policy.precaution.raise_precaution`); a company's halt does not, because the
region's other producers may still sell there.

No fiscal cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rareflow.engine.lpcore import INF
from rareflow.engine.network import Network
from rareflow.model.errors import DataError
from rareflow.model.world import World
from rareflow.policy.base import Effect, YearContext, areas, traded_columns
from rareflow.policy.precaution import WaryHolders, raise_precaution
from rareflow.scenario.instruments import TradeHalt

ROWS = "policy_trade_halt"
#: Key of the year's active halts (a list of :class:`HaltNote`) in ``YearContext.notes``.
NOTES = "trade_halt"


@dataclass(frozen=True)
class HaltNote:
    """An active halt of a year: whose facilities stop selling which products where."""

    facilities: frozenset[str]
    products: frozenset[str]
    destinations: frozenset[str]


def halted_destinations(notes: object, producers: Sequence[str], product: str) -> set[str]:
    """Destinations to which every one of ``producers`` has halted sales of ``product``."""
    if not isinstance(notes, list) or not producers:
        return set()
    found: set[str] | None = None
    for producer in producers:
        own = set().union(*(note.destinations for note in notes if isinstance(note, HaltNote)
                            and producer in note.facilities and product in note.products))
        found = own if found is None else found & own
    return found or set()


def halted_facilities(network: Network, policy: TradeHalt) -> set[str]:
    """Facility ids of the company a halt names (empty for a country halt)."""
    if policy.facilities:
        return set(policy.facilities)
    if policy.operator is None:
        return set()
    named = {f.id for f in network.world.facilities if f.operator == policy.operator}
    if not named:
        raise DataError(f"trade_halt '{policy.id}': no facility has operator "
                        f"'{policy.operator}'", record=policy.id)
    return named


class TradeHaltEffect(Effect[TradeHalt]):
    """Rows that keep a halted seller's products out of the destinations."""

    row_families = (ROWS,)
    order = 45

    def __init__(self, policies: Sequence[TradeHalt], world: World) -> None:
        super().__init__(policies, world)
        self._wary = WaryHolders()

    def declare(self, network: Network) -> None:
        """One row per (policy, exporter, product, element) with shipments to a destination."""
        keys: list[pd.DataFrame] = []
        terms: list[tuple[pd.DataFrame, pd.DataFrame]] = []
        for policy in self.policies:
            company = halted_facilities(network, policy)
            if policy.country is not None:
                exporters = {policy.country}
            else:
                exporters = {network.world.facility(f).country for f in company}
            destinations = set(areas(network.world, list(policy.destinations)))
            elements = set(policy.tracked_elements())
            for product in policy.products:
                ships = traded_columns(network, product)
                ships = ships.loc[ships.exporter.isin(exporters)
                                  & ships.importer.isin(destinations)
                                  & (ships.importer != ships.exporter)
                                  & ships.element.isin(elements)]
                made = pd.concat([network.outputs, network.mixed_heavy])
                others = made.loc[(made["product"] == product) & made.region.isin(exporters)
                                  & made.element.isin(elements) & ~made.facility.isin(company)]
                if policy.country is not None:
                    others = others.iloc[:0]
                row_keys = ships[["exporter", "element"]].drop_duplicates().assign(
                    policy=policy.id, product=product)
                keys.append(row_keys)
                terms.append((ships.assign(policy=policy.id, product=product),
                              others.rename(columns={"region": "exporter"}).assign(
                                  policy=policy.id)))
        columns = ["policy", "exporter", "product", "element"]
        table = (pd.concat(keys, ignore_index=True)[columns] if keys
                 else pd.DataFrame(columns=columns, dtype=object))
        family = network.lp.add_rows(ROWS, table)
        index = family.keys.assign(row=family.ids)
        for ships, others in terms:
            on = ["policy", "exporter", "product", "element"]
            shipped = ships.merge(index, on=on)
            network.lp.add_terms(shipped.row.to_numpy(dtype=np.int64),
                                 shipped.col.to_numpy(dtype=np.int64),
                                 shipped.coef.to_numpy(dtype=float))
            if len(others):
                made = others.merge(index, on=on)
                network.lp.add_terms(made.row.to_numpy(dtype=np.int64),
                                     made.col.to_numpy(dtype=np.int64),
                                     -made.coef.to_numpy(dtype=float))
        self.rows = family.keys.reset_index(drop=True)
        self.policy_rows = {policy.id: np.flatnonzero((self.rows.policy == policy.id).to_numpy())
                            for policy in self.policies}
        self.sellers = {
            policy.id: ({f.id for f in network.world.facilities if f.country == policy.country}
                        if policy.country is not None else halted_facilities(network, policy))
            for policy in self.policies
        }

    def adjust(self, ctx: YearContext) -> None:
        """Bind each active policy's rows: 0, or last year's flow times the uncovered share."""
        _, upper = ctx.rows(ROWS)
        halted: list[HaltNote] = []
        for policy in self.policies:
            active = policy.active_fraction(ctx.year)
            if active <= 0:
                continue
            destinations = areas(ctx.world, list(policy.destinations))
            halted.append(HaltNote(frozenset(self.sellers[policy.id]), frozenset(policy.products),
                                   frozenset(destinations)))
            if policy.country is not None:
                raise_precaution(ctx, destinations, policy.tracked_elements(), active,
                                 self._wary)
            own = self.policy_rows[policy.id]
            if active >= 1.0:
                upper[own] = 0.0
                continue
            allowance = self._reference_flow(ctx, policy, own) * (1.0 - active)
            upper[own] = allowance
        upper[np.isnan(upper)] = INF
        ctx.notes[NOTES] = halted

    def _reference_flow(self, ctx: YearContext, policy: TradeHalt, own: np.ndarray) -> np.ndarray:
        """Last year's t REO per row from the exporter to the destinations (0 if unknown)."""
        if ctx.reference is None or "trade" not in ctx.reference:
            return np.zeros(len(own))
        trade = ctx.reference["trade"]
        if "year" in trade.dims:
            trade = trade.isel(year=0)
        destinations = [d for d in areas(ctx.world, list(policy.destinations))
                        if d in trade.indexes["importer"]]
        flows = np.zeros(len(own))
        for position, row in enumerate(self.rows.iloc[own].itertuples()):
            try:
                flow = trade.sel(product=row.product, exporter=row.exporter,
                                 element=row.element, importer=destinations)
            except KeyError:
                continue
            flows[position] = float(flow.sum())
        return flows
