"""``offtake`` on the market: a buyer region must receive a share of a facility's output.

One row per policy: ``deliveries into the buyer - share x facility output >= lower``, where

* a magnet plant's output is its ``magnet_make`` (t magnet) and deliveries are ``magnet_ship``
  from the plant's region to the buyer (plus the buyer's own ``magnet_use`` when the plant is in
  the buyer region);
* a metal plant's output is ``metal_make x recovery`` and deliveries ``metal_ship`` (plus
  ``magnet_metal_use`` at home);
* a separation plant's or recycler's output is its oxide (feed x element share x recovery,
  all elements) and deliveries ``oxide_ship`` (plus metal making, oxide end uses and stockpile
  fills at home).

Magnets (or oxide) are fungible in a region, so "the facility's output reaches the buyer" is the
linear statement that the region sends the buyer at least that much. The row is built once; a
partial year relaxes it to ``lower = -(1 - active share) x share x maximum output``. Mining and
concentration facilities are not supported (their row is never bound).

With a contract price (``price_usd_per_kg``, or a floor/ceiling on the market price), the buyer
guarantees that price to the plant on the contracted volume, through dedicated *contract*
columns ``c_j``, one per output column ``j`` of the facility (family ``policy_offtake_contract``):

* cover rows ``c_j - share x coef_j x x_j <= 0`` (a contract covers at most the contracted share
  of what the plant makes) and one volume row per policy ``sum_j c_j <= volume_t x active
  share`` (without ``volume_t``: ``active share x share x capacity x largest coef``);
* each ``c_j`` earns the gap ``contract price - last year's market value`` of its output (a
  negative cost): the plant sells its output on the market as usual and the buyer tops it up to
  the contract price on the contracted volume, so it runs when the contract price covers its
  costs. Columns whose gap is not positive are closed (a contract below market adds nothing to
  the plant's incentive; the buyer's gain still shows in the fiscal account);
* with ``volume_t`` the delivery row asks for ``deliveries >= sum_j c_j`` (the contracted
  volume) instead of ``share x output``.

``account`` reports the buyer's net cost (component ``offtake_net_cost``, USD million) =
``sum_j (contract price - this year's market value) x covered_j``, where ``covered_j`` is the
contracted share of this year's output of column ``j``, scaled down pro rata to the contracted
volume. It is negative when the market is above the contract price (the buyer gains).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.engine.lpcore import INF
from rareflow.engine.network import Network
from rareflow.model.world import World
from rareflow.policy.base import (
    PRICE_STAGE,
    AccountContext,
    Effect,
    Outcome,
    PricedRows,
    YearContext,
    local_table,
    lookup_magnet_price,
    lookup_price,
)
from rareflow.scenario.instruments import Offtake

ROWS = "policy_offtake"
#: Contract columns (t of output covered at the contract price) and their rows.
CONTRACT = "policy_offtake_contract"
COVER_ROWS = "policy_offtake_cover"
VOLUME_ROWS = "policy_offtake_volume"
SUPPORTED = ("magnet", "metal", "separation", "recycling")


def output_columns(network: Network, facility_id: str) -> pd.DataFrame:
    """Output of a facility per unit of each of its columns, with what prices it.

    Columns: ``family``, ``local``, ``col``, ``region``, ``element``, ``origin``, ``grade_id``,
    ``coef`` and ``stage`` (price stage; '' for magnets, priced by grade).
    """
    facility = network.world.facility(facility_id)
    columns = ["family", "local", "col", "region", "element", "origin", "grade_id", "coef",
               "stage"]
    if facility.stage == "magnet":
        make = local_table(network.col("magnet_make"))
        make = make.loc[make.facility == facility_id]
        table = make.assign(family="magnet_make", coef=1.0, element="", stage="")
    elif facility.stage in ("metal", "separation", "recycling"):
        outputs = network.outputs
        table = outputs.loc[outputs.facility == facility_id]
        table = table.assign(stage=table["product"].map(PRICE_STAGE))
    else:
        return pd.DataFrame(columns=columns)
    return table.loc[table.coef > 0, columns].reset_index(drop=True)


def _deliveries(network: Network, stage: str, origin: str, buyer: str) -> pd.DataFrame:
    """Columns that bring a stage's product from region ``origin`` to ``buyer`` (coef 1)."""
    ship = {"magnet": "magnet_ship", "metal": "metal_ship"}.get(stage, "oxide_ship")
    table = local_table(network.col(ship))
    tables = [table.loc[(table.exporter == origin) & (table.importer == buyer), ["col"]]]
    if origin == buyer:
        uses = {"magnet": ["magnet_use"], "metal": ["magnet_metal_use"]}.get(
            stage, ["metal_make", "oxide_use", "stock_fill"])
        for name in uses:
            use = local_table(network.col(name))
            tables.append(use.loc[use.region == buyer, ["col"]])
    return pd.concat(tables, ignore_index=True).assign(coef=1.0)


class OutputValues:
    """Market value (USD per unit) of each output row of :func:`output_columns`.

    The rows are fixed for a run: they are split by price stage once, and each part keeps its
    label positions (:class:`~rareflow.policy.base.PricedRows`).
    """

    def __init__(self, table: pd.DataFrame) -> None:
        self.size = len(table)
        self.coef = table.coef.to_numpy(dtype=float)
        stage = table.stage.to_numpy()
        self.parts: list[tuple[np.ndarray, str | None, PricedRows]] = []
        for name in ("", "metal", "separation"):
            rows = stage == name
            if rows.any():
                self.parts.append((rows, name or None, PricedRows(table.loc[rows])))

    def __call__(self, reference: xr.Dataset | None) -> np.ndarray:
        """The values at ``reference``'s prices (magnets: the grade's magnet price)."""
        value = np.zeros(self.size)
        for rows, stage, priced in self.parts:
            value[rows] = (lookup_magnet_price(reference, priced) if stage is None
                           else lookup_price(reference, stage, priced))
        return np.asarray(value * self.coef, dtype=float)


def contract_gap(policy: Offtake, value: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """USD per kg of output of each output row: ``contract price - market price``.

    ``value`` is the market value per unit of each output column (see :class:`OutputValues`) and
    ``coef`` the output per unit, so the market price per kg of output is ``value / coef``.
    """
    per_kg = np.divide(value, coef, out=np.zeros_like(value), where=coef > 0)
    contract = np.array([policy.contract_price(float(price)) for price in per_kg])
    return np.asarray(contract - per_kg, dtype=float)


class OfftakeEffect(Effect[Offtake]):
    """Delivery rows for offtake contracts; contract columns that pay the contract price."""

    row_families = (ROWS, COVER_ROWS, VOLUME_ROWS)
    slack_families = (CONTRACT,)
    order = 40

    def __init__(self, policies: Sequence[Offtake], world: World) -> None:
        super().__init__(policies, world)
        #: (policy id, "contracts" or "outputs") -> the values of those rows, made once.
        self._values: dict[tuple[str, str], OutputValues] = {}

    def _output_values(self, policy_id: str, kind: str, table: pd.DataFrame) -> OutputValues:
        values = self._values.get((policy_id, kind))
        if values is None:
            values = self._values[(policy_id, kind)] = OutputValues(table)
        return values

    def declare(self, network: Network) -> None:
        """Delivery rows per policy; contract columns, cover and volume rows for priced ones."""
        keys = pd.DataFrame({"policy": [p.id for p in self.policies]}, dtype=object)
        family = network.lp.add_rows(ROWS, keys)
        volume_rows = network.lp.add_rows(VOLUME_ROWS, keys)
        self.outputs: dict[str, pd.DataFrame] = {}
        self.max_output: dict[str, float] = {}
        contract_keys: list[pd.DataFrame] = []
        for policy in self.policies:
            facility = network.world.facility(policy.facility)
            if facility.stage not in SUPPORTED:
                continue
            out = output_columns(network, policy.facility)
            self.outputs[policy.id] = out
            per_col = out.groupby("col").coef.sum()
            self.max_output[policy.id] = float(per_col.max()) if len(per_col) else 0.0
            if policy.is_priced():
                contract_keys.append(pd.DataFrame({"policy": policy.id,
                                                   "output": np.arange(len(out))}))
        keys_frame = (pd.concat(contract_keys, ignore_index=True) if contract_keys
                      else pd.DataFrame({"policy": pd.Series(dtype=object),
                                         "output": pd.Series(dtype=np.int64)}))
        contracts = network.lp.add_columns(CONTRACT, keys_frame)
        cover = network.lp.add_rows(COVER_ROWS, keys_frame)
        table = local_table(contracts)
        self.contracts = table
        for index, policy in enumerate(self.policies):
            produced = self.outputs.get(policy.id)
            if produced is None:
                continue
            facility = network.world.facility(policy.facility)
            own = table.loc[table.policy == policy.id]
            deliveries = _deliveries(network, facility.stage, facility.country, policy.buyer)
            network.lp.add_terms(np.full(len(deliveries), family.ids[index]),
                                 deliveries.col.to_numpy(dtype=np.int64),
                                 deliveries.coef.to_numpy(dtype=float))
            if len(own) and policy.volume_t is not None:
                network.lp.add_terms(np.full(len(own), family.ids[index]),
                                     own.col.to_numpy(dtype=np.int64), -np.ones(len(own)))
            else:
                per_col = produced.groupby("col").coef.sum()
                network.lp.add_terms(np.full(len(per_col), family.ids[index]),
                                     per_col.index.to_numpy(dtype=np.int64),
                                     -policy.share * per_col.to_numpy(dtype=float))
            if len(own):
                cover_ids = cover.ids[own.local.to_numpy()]
                outputs = produced.iloc[own.output.to_numpy()]
                network.lp.add_terms(cover_ids, own.col.to_numpy(dtype=np.int64),
                                     np.ones(len(own)))
                network.lp.add_terms(cover_ids, outputs.col.to_numpy(dtype=np.int64),
                                     -policy.share * outputs.coef.to_numpy(dtype=float))
                network.lp.add_terms(np.full(len(own), volume_rows.ids[index]),
                                     own.col.to_numpy(dtype=np.int64), np.ones(len(own)))

    def _cap(self, policy: Offtake, active: float, capacity: float) -> float:
        """Contracted volume of the year (t/y of output), pro rata to the active share."""
        if policy.volume_t is not None:
            return float(policy.volume_t) * active
        return active * policy.share * capacity * self.max_output[policy.id]

    def adjust(self, ctx: YearContext) -> None:
        """Bind active rows; open contract columns paying the contract price's gap."""
        lower, _ = ctx.rows(ROWS)
        _, cover_upper = ctx.rows(COVER_ROWS)
        _, volume_upper = ctx.rows(VOLUME_ROWS)
        for index, policy in enumerate(self.policies):
            active = policy.active_fraction(ctx.year)
            out = self.outputs.get(policy.id)
            if active <= 0 or out is None:
                continue
            capacity = float(ctx.inputs.capacity.get(policy.facility, 0.0))
            cap = self._cap(policy, active, capacity)
            own = self.contracts.loc[self.contracts.policy == policy.id]
            if policy.volume_t is not None and len(own):
                lower[index] = 0.0
            else:
                slack = (1.0 - active) * policy.share * capacity * self.max_output[policy.id]
                lower[index] = -slack if active < 1.0 else 0.0
            if not len(own):
                continue
            cover_upper[own.local.to_numpy()] = 0.0
            volume_upper[index] = cap
            values = self._output_values(policy.id, "contracts",
                                         out.iloc[own.output.to_numpy()])
            gap = contract_gap(policy, values(ctx.reference), values.coef)
            paying = gap > 0
            ctx.ban(CONTRACT, own.local.to_numpy()[paying], banned=False)
            ctx.add_cost(CONTRACT, own.local.to_numpy()[paying], -gap[paying])
        if lower.size:
            lower[np.isnan(lower)] = -INF

    def account(self, ctx: AccountContext) -> Outcome:
        """The buyer's net cost of each priced contract this year (USD million)."""
        outcome = Outcome()
        for policy in self.policies:
            out = self.outputs.get(policy.id)
            active = policy.active_fraction(ctx.year)
            if not policy.is_priced() or out is None or active <= 0:
                continue
            flows = np.zeros(len(out))
            for family, group in out.groupby("family"):
                values = ctx.values(str(family))
                if values is not None:
                    flows[group.index.to_numpy()] = values[group.local.to_numpy(dtype=np.int64)]
            coef = out.coef.to_numpy(dtype=float)
            covered = policy.share * coef * flows
            capacity = float(ctx.year_context.inputs.capacity.get(policy.facility, 0.0))
            cap = self._cap(policy, active, capacity)
            total = float(covered.sum())
            if policy.volume_t is None:
                covered = covered * active
            elif total > cap > 0:
                covered = covered * cap / total
            gap = contract_gap(policy, self._output_values(policy.id, "outputs", out)(ctx.result),
                               coef)
            cost = float(np.dot(gap, covered)) / 1000.0
            outcome.fiscal_usd_m[policy.id] = cost
            outcome.components[policy.id] = {"offtake_net_cost": cost}
        return outcome
