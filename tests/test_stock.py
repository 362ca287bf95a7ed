"""Tests of the inflow-driven dynamic stock model (rareflow.engine.stock)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rareflow.engine.stock import (
    FixedLifetime,
    Lifetime,
    MagnetStock,
    NormalLifetime,
    WeibullLifetime,
    historic_inflows,
    inflow_driven,
)

# ---------------------------------------------------------------- strategies

TRAILING = st.sampled_from([(), (1,), (3,), (2, 3)])


def _param(shape: tuple[int, ...], lo: float, hi: float) -> st.SearchStrategy[np.ndarray]:
    """A parameter array of ``shape`` (or a broadcastable suffix of it) in ``[lo, hi]``."""
    floats = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    return st.integers(0, len(shape)).flatmap(
        lambda n: hnp.arrays(np.float64, shape[len(shape) - n :], elements=floats)
    )


def lifetimes(shape: tuple[int, ...]) -> st.SearchStrategy[Lifetime]:
    """Fixed, normal or Weibull lifetimes with parameters broadcastable to ``shape``."""
    return st.one_of(
        st.builds(FixedLifetime, _param(shape, 0.0, 30.0)),
        st.builds(NormalLifetime, _param(shape, 0.0, 30.0), _param(shape, 0.1, 10.0)),
        st.builds(WeibullLifetime, _param(shape, 0.3, 6.0), _param(shape, 0.5, 40.0)),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, Lifetime]:
    """Random inflows of shape (T, *trailing) with a matching random lifetime."""
    trailing = draw(TRAILING)
    n_t = draw(st.integers(1, 40))
    inflow = draw(
        hnp.arrays(
            np.float64,
            (n_t, *trailing),
            elements=st.floats(0.0, 1e3, allow_nan=False, allow_infinity=False),
        )
    )
    return inflow, draw(lifetimes(trailing))


def _tol(inflow: np.ndarray) -> float:
    return 1e-12 * max(1.0, float(inflow.sum()))


# ------------------------------------------------------------ mass balance


@given(cases())
def test_mass_balance_batch(case: tuple[np.ndarray, Lifetime]) -> None:
    inflow, lifetime = case
    res = inflow_driven(inflow, lifetime)
    prev = np.concatenate([np.zeros_like(res.stock[:1]), res.stock[:-1]])
    np.testing.assert_allclose(res.stock, prev + inflow - res.outflow, rtol=0, atol=_tol(inflow))
    # cumulative form: everything that came in is either in stock or has left
    np.testing.assert_allclose(
        res.stock + res.outflow.cumsum(axis=0), inflow.cumsum(axis=0), rtol=0, atol=_tol(inflow)
    )
    np.testing.assert_allclose(res.stock, res.stock_by_cohort.sum(axis=1))
    np.testing.assert_allclose(res.outflow, res.outflow_by_cohort.sum(axis=1))
    assert res.stock.shape == inflow.shape
    assert res.stock_by_cohort.shape == (inflow.shape[0], *inflow.shape)
    assert np.all(res.stock_by_cohort >= 0.0)
    assert np.all(res.outflow_by_cohort >= -_tol(inflow))
    # nothing of a cohort is in use or leaves before its inflow year
    later = np.triu(np.ones((inflow.shape[0],) * 2, dtype=bool), k=1)
    assert np.all(res.stock_by_cohort[later] == 0.0)
    assert np.all(res.outflow_by_cohort[later] == 0.0)


@given(cases(), st.data())
def test_incremental_matches_batch_and_balances(
    case: tuple[np.ndarray, Lifetime], data: st.DataObject
) -> None:
    inflow, lifetime = case
    n_hist = data.draw(st.integers(0, inflow.shape[0] - 1))
    past, future = inflow[:n_hist], inflow[n_hist:]
    ms = MagnetStock(future.shape[0], lifetime, shape=inflow.shape[1:], past_inflows=past)
    res = inflow_driven(inflow, lifetime)
    prev = ms.initial_stock
    expected_initial = res.stock[n_hist - 1] if n_hist else np.zeros(inflow.shape[1:])
    np.testing.assert_allclose(prev, expected_initial, rtol=1e-12, atol=_tol(inflow))
    for t in range(future.shape[0]):
        from_past = ms.outflow_from_past(t)
        ms.add_inflow(t, future[t])
        out, stock = ms.outflow(t), ms.stock(t)
        np.testing.assert_allclose(stock, prev + future[t] - out, rtol=0, atol=_tol(inflow))
        np.testing.assert_allclose(stock, res.stock[n_hist + t], rtol=1e-12, atol=_tol(inflow))
        np.testing.assert_allclose(out, res.outflow[n_hist + t], rtol=1e-12, atol=_tol(inflow))
        same_year = res.outflow_by_cohort[n_hist + t, n_hist + t]
        np.testing.assert_allclose(from_past + same_year, out, rtol=1e-12, atol=_tol(inflow))
        prev = stock


# --------------------------------------------------------- analytic cases


@pytest.mark.parametrize("length", [0, 1, 3, 7])
def test_single_cohort_fixed_lifetime_leaves_at_age_l(length: int) -> None:
    inflow = np.zeros(15)
    inflow[2] = 5.0
    res = inflow_driven(inflow, FixedLifetime(length))
    expected_out = np.zeros(15)
    expected_out[2 + length] = 5.0
    expected_stock = np.zeros(15)
    expected_stock[2 : 2 + length] = 5.0
    np.testing.assert_array_equal(res.outflow, expected_out)
    np.testing.assert_array_equal(res.stock, expected_stock)


@pytest.mark.parametrize(("length", "exit_age"), [(0.4, 0), (0.5, 0), (0.6, 1), (3.5, 3), (3.6, 4)])
def test_fractional_fixed_lifetime_exit_age(length: float, exit_age: int) -> None:
    # a cohort leaves in the year in which its mid-year age reaches L: k = ceil(L - 1/2)
    inflow = np.zeros(8)
    inflow[0] = 1.0
    res = inflow_driven(inflow, FixedLifetime(length))
    assert int(np.argmax(res.outflow)) == exit_age == math.ceil(length - 0.5)
    assert res.outflow[exit_age] == 1.0


@pytest.mark.parametrize("length", [1, 4, 10])
def test_constant_inflow_fixed_lifetime_steady_state(length: int) -> None:
    q = 2.5
    res = inflow_driven(np.full(30, q), FixedLifetime(length))
    np.testing.assert_allclose(res.stock[length:], length * q)
    np.testing.assert_allclose(res.outflow[length:], q)
    np.testing.assert_allclose(res.outflow[:length], 0.0)
    np.testing.assert_allclose(res.stock[:length], q * np.arange(1, length + 1))


def _mean_exit_age(lifetime: Lifetime, n_ages: int = 400) -> float:
    exits = lifetime.exit_shares(n_ages)
    assert math.isclose(exits.sum(), 1.0, abs_tol=1e-12)
    return float((np.arange(n_ages) * exits).sum())


@pytest.mark.parametrize(("mean", "sd"), [(10.0, 2.0), (12.3, 3.0), (25.0, 6.0)])
def test_normal_lifetime_mean_exit_age(mean: float, sd: float) -> None:
    assert _mean_exit_age(NormalLifetime(mean, sd)) == pytest.approx(mean, abs=1e-3)


@pytest.mark.parametrize(("shape", "scale"), [(2.0, 12.0), (3.5, 20.0), (1.5, 8.0)])
def test_weibull_lifetime_mean_exit_age(shape: float, scale: float) -> None:
    expected = scale * math.gamma(1.0 + 1.0 / shape)
    assert _mean_exit_age(WeibullLifetime(shape, scale)) == pytest.approx(expected, abs=0.02)


def test_normal_mass_below_half_year_leaves_in_inflow_year() -> None:
    # no truncation: the (non-physical) negative-age mass leaves in the inflow year
    lt = NormalLifetime(mean=1.0, sd=2.0)
    exits = lt.exit_shares(3)
    assert exits[0] == pytest.approx(1.0 - lt.survival(np.array(0.5)))
    assert exits[0] > 0.4


def test_survival_formulas() -> None:
    ages = np.array([0.5, 1.5, 10.5])
    np.testing.assert_allclose(
        WeibullLifetime(2.0, 10.0).survival(ages), np.exp(-((ages / 10.0) ** 2))
    )
    np.testing.assert_array_equal(FixedLifetime(1.5).survival(ages), [1.0, 0.0, 0.0])
    sf = NormalLifetime(10.0, 2.0).survival_factors(3)
    np.testing.assert_allclose(sf[0], 0.5 * math.erfc((0.5 - 10.0) / (2.0 * math.sqrt(2.0))))


# ---------------------------------------------- per-element parameters


def test_per_element_parameters_match_separate_runs() -> None:
    rng = np.random.default_rng(1)
    inflow = rng.uniform(0, 10, size=(25, 2, 3))
    mean = np.array([[5.0, 10.0, 15.0], [8.0, 12.0, 20.0]])
    sd = np.array([1.0, 2.0, 3.0])  # broadcasts over the first trailing axis
    res = inflow_driven(inflow, NormalLifetime(mean, sd))
    for i in range(2):
        for j in range(3):
            single = inflow_driven(inflow[:, i, j], NormalLifetime(mean[i, j], sd[j]))
            np.testing.assert_allclose(res.stock[:, i, j], single.stock, rtol=1e-14)
            np.testing.assert_allclose(res.outflow[:, i, j], single.outflow, rtol=1e-14)


def test_parameters_that_do_not_broadcast_are_rejected() -> None:
    with pytest.raises(ValueError, match="broadcast"):
        inflow_driven(np.ones((5, 3)), FixedLifetime(np.array([1.0, 2.0])))
    with pytest.raises(ValueError, match="broadcast"):
        MagnetStock(5, FixedLifetime(np.ones((2, 3))), shape=(3,))


@pytest.mark.parametrize(
    "make",
    [
        lambda: FixedLifetime(-1.0),
        lambda: NormalLifetime(-1.0, 1.0),
        lambda: NormalLifetime(5.0, 0.0),
        lambda: WeibullLifetime(0.0, 1.0),
        lambda: WeibullLifetime(1.0, -2.0),
        lambda: FixedLifetime(np.nan),
    ],
)
def test_invalid_parameters_are_rejected(make: object) -> None:
    with pytest.raises(ValueError, match="lifetime parameter"):
        make()  # type: ignore[operator]


# ------------------------------------------------------- MagnetStock


def test_magnet_stock_requires_inflows_in_order() -> None:
    ms = MagnetStock(4, FixedLifetime(2.0))
    np.testing.assert_array_equal(ms.outflow_from_past(0), 0.0)
    with pytest.raises(ValueError, match="year index 0 is not set"):
        ms.stock(0)
    ms.add_inflow(0, 1.0)
    with pytest.raises(ValueError, match="year index 1 is not set"):
        ms.outflow(2)
    with pytest.raises(IndexError):
        ms.add_inflow(4, 1.0)
    with pytest.raises(IndexError):
        ms.stock(-1)
    ms.add_inflow(0, 3.0)  # replacing a value is allowed
    assert ms.inflow(0) == 3.0
    assert ms.stock(0) == 3.0


def test_magnet_stock_history_gives_initial_stock() -> None:
    past = historic_inflows(10.0, 0.05, 20)
    ms = MagnetStock(5, FixedLifetime(8.0), past_inflows=past)
    assert ms.initial_stock == pytest.approx(past[-8:].sum())
    # the cohort of 8 years before the base year leaves in year 0
    assert ms.outflow_from_past(0) == pytest.approx(past[-8])
    ms.add_inflow(0, 10.0)
    assert ms.stock(0) == pytest.approx(ms.initial_stock + 10.0 - past[-8])


def test_magnet_stock_vector_shape() -> None:
    lt = WeibullLifetime(shape=np.array([2.0, 3.0]), scale=np.array([[10.0], [15.0], [20.0]]))
    ms = MagnetStock(3, lt, shape=(3, 2), past_inflows=historic_inflows(np.ones((3, 2)), 0.1, 10))
    ms.add_inflow(0, 2.0)  # scalars broadcast to the trailing shape
    assert ms.stock(0).shape == (3, 2)
    assert ms.outflow(0).shape == (3, 2)
    with pytest.raises(ValueError, match="past_inflows"):
        MagnetStock(3, lt, shape=(3, 2), past_inflows=np.ones((4, 2)))


def test_historic_inflows() -> None:
    h = historic_inflows(np.array([100.0, 50.0]), np.array([0.1, 0.0]), 3)
    np.testing.assert_allclose(h[:, 0], [100 / 1.1**3, 100 / 1.1**2, 100 / 1.1])
    np.testing.assert_allclose(h[:, 1], 50.0)
    assert historic_inflows(1.0, 0.05, 0).shape == (0,)
    with pytest.raises(ValueError):
        historic_inflows(1.0, -1.0, 3)
