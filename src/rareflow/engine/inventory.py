"""Buyers' and traders' inventories of oxide: target cover, stock demand and carry-over.

Each region with oxide demand holds an inventory of every element (magnet makers', traders' and
end users' stocks together, as oxide equivalent). In a year:

* the opening stock ``L`` (last year's closing stock, by origin) is offered to the market
  (``inventory_sell`` ≤ ``L``);
* the closing stock ``K = L − sold + bought`` is valued along a constant-elasticity
  *stock-demand* curve (:mod:`rareflow.model.demand_curve`) through the **target stock**
  ``T = cover × reference use`` at the element's reference price: holders keep more than the
  target when prices are low and sell down their stocks when prices are high.

``reference use`` is the region's demand for the element at reference prices: its oxide demand
plus the element content of its magnet demand (gross of machining swarf). A policy that makes
holders want more cover (precautionary buying under an announced or active export control)
scales the curve's steps, i.e. the target; when the control ends the target falls back and the
extra stock is sold (destocking). That is what made prices spike in 2011 and fall in 2012.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from rareflow.engine.network import SWARF_SHARE, Network
from rareflow.model.demand_curve import curve_steps

#: Target inventory cover in years of reference use. Assumption: ≈ 3 months of use is a common
#: working-stock norm for industrial raw materials; no published rare-earth figure was found.
COVER_YEARS = 0.25
#: Elasticity (magnitude) of the stock-demand curve: how far holders let stocks run down (or
#: build up) for a given price change. Assumption: stocks respond more to price than use does
#: (use elasticities are 0.05–0.5 here); 1.0 means a price twice the reference halves the stock.
STOCK_ELASTICITY = 1.0
#: Origin tag of the opening stocks of the first simulated year. Assumption: ≈ 90 % of the
#: separated oxide traded in the base year was made in China, so stocks carry its tag.
OPENING_ORIGIN = "china"


class InventoryLayout:
    """Where inventory quantities sit in a network's columns and rows (built once per model).

    ``cells``: the (region, element) rows of ``inventory_holding``. ``magnet_use`` and
    ``oxide_use`` map the year's demand quantities (aligned with the ``demand_block`` and
    ``oxide_block`` columns) to each cell's target stock.
    """

    def __init__(self, network: Network, oxide_reference: np.ndarray) -> None:
        col, row = network.col, network.row
        holding = row("inventory_holding")
        self.n_cells = holding.size
        cells = {key: i for i, key in enumerate(
            zip(holding.keys.region.tolist(), holding.keys.element.tolist(), strict=True))}

        sell = col("inventory_sell")
        self.sell_ids = sell.ids
        self.buy_ids = col("inventory_buy").ids
        self.sell_cell = np.array([cells[(r, e)] for r, e in zip(
            sell.keys.region.tolist(), sell.keys.element.tolist(), strict=True)], dtype=np.intp)
        self.sell_is_opening_origin = (sell.keys.origin == OPENING_ORIGIN).to_numpy()

        blocks = col("inventory_block")
        self.block_ids = blocks.ids
        self.block_cell = np.array([cells[(r, e)] for r, e in zip(
            blocks.keys.region.tolist(), blocks.keys.element.tolist(), strict=True)],
            dtype=np.intp)
        steps = curve_steps(STOCK_ELASTICITY)
        block = blocks.keys.block.to_numpy(dtype=np.intp)
        self.block_width = steps.width[block]
        #: Willingness to pay of each step, USD/kg (the cell's reference price × multiple).
        self.block_price = steps.price[block] * oxide_reference[self.block_cell]
        self.holding_rows = holding.ids

        gross = 1.0 / (1.0 - SWARF_SHARE)
        mixed = network.magnet_mix.merge(network.recipes, on="grade_id")
        content = (mixed.assign(t=mixed.mix * mixed.content * gross)
                   .groupby(["sector", "element"], as_index=False)["t"].sum())
        per_sector: dict[str, list[tuple[str, float]]] = {}
        for sector, element, t in content.itertuples(index=False):
            per_sector.setdefault(str(sector), []).append((str(element), float(t)))
        magnet = col("demand_block").keys
        self.magnet_use = self._matrix(
            [(cells.get((r, e)), i, t)
             for i, (r, s, b) in enumerate(zip(magnet.region.tolist(), magnet.sector.tolist(),
                                               magnet.block.tolist(), strict=True)) if b == 0
             for e, t in per_sector.get(s, [])], len(magnet))
        oxide = col("oxide_block").keys
        self.oxide_use = self._matrix(
            [(cells.get((r, e)), i, 1.0)
             for i, (r, e, b) in enumerate(zip(oxide.region.tolist(), oxide.element.tolist(),
                                               oxide.block.tolist(), strict=True)) if b == 0],
            len(oxide))

    def _matrix(self, entries: list[tuple[int | None, int, float]], n: int) -> sparse.csr_matrix:
        kept = [(cell, i, t) for cell, i, t in entries if cell is not None]
        if not kept:
            return sparse.csr_matrix((self.n_cells, n))
        cell, index, value = (np.asarray(v) for v in zip(*kept, strict=True))
        return sparse.csr_matrix((value.astype(float), (cell, index)), shape=(self.n_cells, n))

    def targets(self, magnet_quantity: np.ndarray, oxide_quantity: np.ndarray) -> np.ndarray:
        """Target stock per cell (t REO) from the year's reference demand quantities."""
        use = self.magnet_use @ magnet_quantity + self.oxide_use @ oxide_quantity
        return np.asarray(COVER_YEARS * use, dtype=float)

    def opening_at_target(self, target: np.ndarray) -> np.ndarray:
        """Opening stock per ``inventory_sell`` column when none is carried: the target."""
        return np.where(self.sell_is_opening_origin, target[self.sell_cell], 0.0)

    def closing(self, opening: np.ndarray, col_value: np.ndarray) -> np.ndarray:
        """Closing stock per ``inventory_sell`` column: opening − sold + bought."""
        closing = opening - col_value[self.sell_ids] + col_value[self.buy_ids]
        return np.asarray(np.maximum(closing, 0.0))  # clears solver round-off below zero
