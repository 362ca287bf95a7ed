"""Trace traded material from the node that made it to the node that used it.

A product (concentrate, oxide, metal, magnets) is pooled in each region: the pool receives what
the region's plants make plus imports, and sends material to the region's users plus exports.
Who used whose material is not in the results, so pools are taken as well mixed: every outflow
of a pool carries its inflows in proportion. Material entering pool ``g`` then reaches user ``j``
of pool ``h`` with probability ``B = (I − P)⁻¹ Q`` (an absorbing Markov chain), where
``P[g, h] = T[g, h] / X[g]`` is the share of ``g``'s throughput exported to ``h`` and
``Q[g, (h, j)] = U[h, j] / X[h]`` when ``g == h`` (else 0) the share used at home. This handles
re-exports (a region that imports and exports the same product) without double counting, and
every source's amount is spread over the users exactly, so node flows balance.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

Flows = dict[tuple[Hashable, Hashable], float]


def trace_pools(
    sources: Sequence[Mapping[Hashable, float]],
    uses: Sequence[Mapping[Hashable, float]],
    trade: npt.NDArray[np.float64],
) -> Flows:
    """Amounts from each source node to each use node through pools linked by trade.

    ``sources[g]`` maps a source node to what it puts into pool ``g``; ``uses[g]`` maps a use
    node to what it takes out of pool ``g``; ``trade[g, h]`` is shipped from pool ``g`` to pool
    ``h`` (the diagonal is ignored). Pools should balance (sources + imports = uses + exports);
    small residuals (solver tolerance) are spread in proportion. Returns
    ``{(source node, use node): amount}`` with only positive amounts.
    """
    n = len(sources)
    if len(uses) != n or trade.shape != (n, n):
        raise ValueError("sources, uses and trade must describe the same pools")
    shipped = np.clip(np.asarray(trade, dtype=float), 0.0, None)
    np.fill_diagonal(shipped, 0.0)
    use_keys = [(pool, key) for pool in range(n) for key in uses[pool]]
    if not use_keys:
        return {}
    outflow = np.array(
        [sum(max(v, 0.0) for v in uses[pool].values()) + shipped[pool].sum() for pool in range(n)]
    )
    scale = np.divide(1.0, outflow, out=np.zeros(n), where=outflow > 0)
    export_share = shipped * scale[:, None]
    home_share = np.zeros((n, len(use_keys)))
    for column, (pool, key) in enumerate(use_keys):
        home_share[pool, column] = max(uses[pool][key], 0.0) * scale[pool]
    reach = np.linalg.lstsq(np.eye(n) - export_share, home_share, rcond=None)[0]
    flows: Flows = {}
    for pool in range(n):
        for source, amount in sources[pool].items():
            if amount <= 0:
                continue
            for column, (_, use) in enumerate(use_keys):
                value = amount * reach[pool, column]
                if value > 0:
                    flows[(source, use)] = flows.get((source, use), 0.0) + float(value)
    return flows


def add_flows(total: Flows, more: Flows) -> Flows:
    """Accumulate ``more`` into ``total`` (in place) and return ``total``."""
    for key, value in more.items():
        total[key] = total.get(key, 0.0) + value
    return total
