"""Cross-check of rareflow.engine.stock against flodym's InflowDrivenDSM (test-only dependency)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from rareflow.engine.stock import (
    FixedLifetime,
    Lifetime,
    MagnetStock,
    NormalLifetime,
    WeibullLifetime,
    inflow_driven,
)

fd = pytest.importorskip("flodym")

N_T, REGIONS, SECTORS = 40, 3, 2
RNG = np.random.default_rng(2024)
INFLOW = (
    RNG.uniform(0.0, 100.0, size=(N_T, REGIONS, SECTORS))
    * np.linspace(0.2, 1.0, N_T)[:, None, None]
)
# per-element parameters, broadcastable to (region, sector)
LENGTH = np.array([[0.0, 3.0], [7.0, 12.0], [2.5, 20.0]])
MEAN = np.array([[1.0, 8.0], [12.0, 15.0], [20.0, 3.5]])
SD = np.array([0.5, 4.0])
W_SHAPE = np.array([[0.8], [2.0], [3.5]])
W_SCALE = np.array([[5.0, 12.0], [15.0, 25.0], [2.0, 9.5]])


def _dims() -> Any:
    return fd.DimensionSet(
        dim_list=[
            fd.Dimension(name="Time", letter="t", items=list(range(2000, 2000 + N_T))),
            fd.Dimension(name="Region", letter="r", items=[f"r{i}" for i in range(REGIONS)]),
            fd.Dimension(name="Sector", letter="s", items=[f"s{i}" for i in range(SECTORS)]),
        ]
    )


CASES: dict[str, tuple[Lifetime, Callable[[Any], Any]]] = {
    "fixed": (
        FixedLifetime(LENGTH),
        lambda dims: fd.FixedLifetime(dims=dims, mean=LENGTH),
    ),
    "normal": (
        NormalLifetime(MEAN, SD),
        lambda dims: fd.NormalLifetime(dims=dims, mean=MEAN, std=SD),
    ),
    "weibull": (
        WeibullLifetime(W_SHAPE, W_SCALE),
        lambda dims: fd.WeibullLifetime(dims=dims, weibull_shape=W_SHAPE, weibull_scale=W_SCALE),
    ),
}


def _flodym_run(make_lifetime: Callable[[Any], Any]) -> Any:
    dims = _dims()
    dsm = fd.InflowDrivenDSM(
        dims=dims,
        lifetime_model=make_lifetime(dims),
        inflow=fd.StockArray(dims=dims, values=INFLOW.copy()),
    )
    dsm.compute()
    return dsm


@pytest.mark.parametrize("kind", sorted(CASES))
def test_batch_matches_flodym(kind: str) -> None:
    ours, theirs = CASES[kind]
    dsm = _flodym_run(theirs)
    res = inflow_driven(INFLOW, ours)
    np.testing.assert_allclose(res.stock, dsm.stock.values, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.outflow, dsm.outflow.values, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.stock_by_cohort, dsm.get_stock_by_cohort(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        res.outflow_by_cohort, dsm.get_outflow_by_cohort(), rtol=1e-9, atol=1e-9
    )


@pytest.mark.parametrize("kind", sorted(CASES))
def test_incremental_with_history_matches_flodym(kind: str) -> None:
    ours, theirs = CASES[kind]
    dsm = _flodym_run(theirs)
    n_hist = 15
    ms = MagnetStock(N_T - n_hist, ours, shape=(REGIONS, SECTORS), past_inflows=INFLOW[:n_hist])
    np.testing.assert_allclose(ms.initial_stock, dsm.stock.values[n_hist - 1], rtol=1e-9, atol=1e-9)
    for t in range(N_T - n_hist):
        ms.add_inflow(t, INFLOW[n_hist + t])
        np.testing.assert_allclose(ms.stock(t), dsm.stock.values[n_hist + t], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(
            ms.outflow(t), dsm.outflow.values[n_hist + t], rtol=1e-9, atol=1e-9
        )
