"""Precautionary stock-building: holders want more cover while supply is politically at risk.

Two kinds of policy raise the cover that holders of inventories want: an export control, from
its announcement to its end (quota, licence or ban alike), and a country's halt of its sales to
a destination, while it lasts. Both go through :func:`raise_precaution`, which keeps, per
``inventory_block`` column, the largest share of the year for which any active policy asks for
precaution. Overlapping policies on the same holders therefore do not compound: holders want
:data:`~rareflow.engine.inventory.PRECAUTIONARY_COVER_YEARS` of cover at most, whatever the
number of controls that threaten their supply. (Threats in disjoint parts of one year would
call for the sum of their shares; the largest share understates that case.)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from rareflow.engine.inventory import precautionary_scale
from rareflow.engine.network import Network
from rareflow.policy.base import YearContext

#: Key of the per-column precaution share (an array over ``inventory_block``) in ``ctx.notes``.
NOTES = "precaution_share"


class WaryHolders:
    """Positions of the ``inventory_block`` columns held in given regions of given elements.

    Policies ask for the same (regions, elements) every year of a run; each effect keeps one of
    these so the positions are found once per network.
    """

    def __init__(self) -> None:
        self._network: Network | None = None
        self._found: dict[tuple[tuple[str, ...], tuple[str, ...]], np.ndarray] = {}

    def __call__(self, network: Network, regions: Iterable[str],
                 elements: Iterable[str]) -> np.ndarray:
        """Positions of the holders in ``regions`` of ``elements`` (read-only)."""
        if network is not self._network:
            self._network, self._found = network, {}
        key = (tuple(regions), tuple(elements))
        found = self._found.get(key)
        if found is None:
            holders = network.col("inventory_block").keys
            found = np.flatnonzero((holders.region.isin(list(key[0]))
                                    & holders.element.isin(list(key[1]))).to_numpy())
            found.flags.writeable = False
            self._found[key] = found
        return found


def raise_precaution(ctx: YearContext, regions: Iterable[str], elements: Iterable[str],
                     share: float, holders: WaryHolders) -> None:
    """Raise the precautionary cover of holders in ``regions`` of ``elements`` to ``share``.

    ``share`` (0..1) is the part of the year the precaution lasts. Columns already raised by
    another policy this year keep the larger share; the stock-demand steps are scaled by the
    ratio of the new factor to the one already applied. ``holders`` (the calling effect's)
    keeps the positions of the holders between calls.
    """
    if share <= 0:
        return
    wary = holders(ctx.network, regions, elements)
    if wary.size == 0:
        return
    applied = ctx.notes.get(NOTES)
    if not isinstance(applied, np.ndarray):
        applied = np.zeros(ctx.network.col("inventory_block").size)
        ctx.notes[NOTES] = applied
    before = applied[wary]
    after = np.maximum(before, share)
    changed = after > before
    if not changed.any():
        return
    local = wary[changed]
    held = ctx.network.col("inventory_block").keys.region.to_numpy()[local]
    china = ctx.network.china
    factor = (precautionary_scale_many(held, china, after[changed])
              / precautionary_scale_many(held, china, before[changed]))
    ctx.scale("inventory_block", local, factor)
    applied[local] = after[changed]


def precautionary_scale_many(regions: np.ndarray, china: str, shares: np.ndarray) -> np.ndarray:
    """:func:`~rareflow.engine.inventory.precautionary_scale` with one share per holder."""
    unit = precautionary_scale(regions, china, 1.0) - 1.0
    return np.asarray(1.0 + shares * unit, dtype=float)
