"""Inflow-driven dynamic stock model (cohort based) of magnets in use.

Every year's inflow into use forms a *cohort* that leaves use according to a lifetime
distribution. Arrays have time (or age) on the first axis and any trailing dimensions
after it (e.g. region × sector); lifetime parameters broadcast against the trailing shape.

Timing convention (the one ``flodym`` uses by default, ``inflow_at="middle"``)
------------------------------------------------------------------------------
Year ``t`` is the interval ``[t − ½, t + ½)``. A cohort enters use in the middle of its year
``c``; stocks are measured at the end of a year. At the end of year ``t`` cohort ``c`` is
``t − c + ½`` years old, so with ``S(a)`` the continuous survival function of the lifetime
(the probability that a magnet is still in use at age ``a``), the *survival factor* for
``k = t − c`` whole years since inflow is::

    sf[k] = S(k + ½)              (k ≥ 0),    sf[−1] := 1

and, for ``c ≤ t`` (nothing is in use before its inflow year)::

    stock_by_cohort[t, c]   = inflow[c] · sf[t − c]
    outflow_by_cohort[t, c] = inflow[c] · (sf[t − c − 1] − sf[t − c])
    stock[t]   = Σ_{c ≤ t} stock_by_cohort[t, c]
    outflow[t] = Σ_{c ≤ t} outflow_by_cohort[t, c]

Part of a year's inflow can leave in that same year (``1 − S(½)``), so ``outflow[t]``
depends on the inflows of earlier years *and* of year ``t``. Mass is conserved exactly::

    stock[t] = stock[t − 1] + inflow[t] − outflow[t]

Consequences: a fixed lifetime ``L`` (survival ``S(a) = 1`` if ``a < L`` else ``0``) means
a cohort is in use at the end of years ``c … c + ⌈L − ½⌉ − 1`` and leaves entirely in year
``c + ⌈L − ½⌉`` — for whole-year ``L ≥ 1`` that is year ``c + L``, so a constant inflow
``q`` reaches the steady state ``stock = L · q`` with ``outflow = q``; ``L = 0`` leaves in
the inflow year. A normal lifetime is not truncated: its probability mass at ages below
½ (including the non-physical negative ages) leaves in the inflow year, so mass is still
conserved and the mean age at exit is close to the distribution mean.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "FixedLifetime",
    "Lifetime",
    "MagnetStock",
    "NormalLifetime",
    "StockResult",
    "WeibullLifetime",
    "historic_inflows",
    "inflow_driven",
]


def _as_param(value: npt.ArrayLike, name: str, *, positive: bool) -> FloatArray:
    """Return ``value`` as a float array, checking it is finite and (strictly) non-negative."""
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"lifetime parameter {name!r} must be finite")
    if positive and not np.all(arr > 0.0):
        raise ValueError(f"lifetime parameter {name!r} must be > 0")
    if not positive and not np.all(arr >= 0.0):
        raise ValueError(f"lifetime parameter {name!r} must be >= 0")
    return arr


class Lifetime(ABC):
    """A lifetime distribution, its parameters broadcastable to the trailing shape."""

    @property
    @abstractmethod
    def param_shape(self) -> tuple[int, ...]:
        """Broadcast shape of the parameters (``()`` when all are scalars)."""

    @abstractmethod
    def survival(self, age: FloatArray) -> FloatArray:
        """Continuous survival function ``S(a)``: share of a cohort still in use at age ``a``.

        ``age`` broadcasts against the parameters (append axes of length 1 to it as needed).
        """

    def survival_factors(self, n_ages: int) -> FloatArray:
        """Survival factors ``sf[k] = S(k + ½)`` for ``k = 0 … n_ages − 1``.

        Returns an array of shape ``(n_ages, *param_shape)``.
        """
        if n_ages < 0:
            raise ValueError("n_ages must be >= 0")
        shape = self.param_shape
        ages = (np.arange(n_ages, dtype=np.float64) + 0.5).reshape((n_ages,) + (1,) * len(shape))
        return np.broadcast_to(self.survival(ages), (n_ages, *shape)).astype(np.float64)

    def exit_shares(self, n_ages: int) -> FloatArray:
        """Shares of a cohort leaving use ``k`` years after inflow: ``sf[k − 1] − sf[k]``.

        With ``sf[−1] = 1``; shape ``(n_ages, *param_shape)``. Their sum is ``1 − sf[n_ages − 1]``.
        """
        sf = self.survival_factors(n_ages)
        if n_ages == 0:
            return sf
        prev = np.concatenate([np.ones_like(sf[:1]), sf[:-1]], axis=0)
        return prev - sf


@dataclass(frozen=True, eq=False)
class FixedLifetime(Lifetime):
    """Every magnet leaves use at exactly age ``length`` years: ``S(a) = 1 if a < L else 0``."""

    length: npt.ArrayLike

    def __post_init__(self) -> None:
        """Validate and convert the parameter to a float array."""
        object.__setattr__(self, "length", _as_param(self.length, "length", positive=False))

    @property
    def param_shape(self) -> tuple[int, ...]:
        """Shape of ``length``."""
        return np.shape(self.length)

    def survival(self, age: FloatArray) -> FloatArray:
        """``S(a) = 1`` for ``a < L``, else ``0``."""
        return (age < np.asarray(self.length)).astype(np.float64)


@dataclass(frozen=True, eq=False)
class NormalLifetime(Lifetime):
    """Normal lifetime, not truncated: ``S(a) = Φ((mean − a) / sd)``.

    The mass at ages below ½ year (negative ages included) leaves in the inflow year.
    """

    mean: npt.ArrayLike
    sd: npt.ArrayLike

    def __post_init__(self) -> None:
        """Validate and convert the parameters to float arrays."""
        object.__setattr__(self, "mean", _as_param(self.mean, "mean", positive=False))
        object.__setattr__(self, "sd", _as_param(self.sd, "sd", positive=True))

    @property
    def param_shape(self) -> tuple[int, ...]:
        """Broadcast shape of ``mean`` and ``sd``."""
        return np.broadcast_shapes(np.shape(self.mean), np.shape(self.sd))

    def survival(self, age: FloatArray) -> FloatArray:
        """``S(a) = Φ((mean − a) / sd)`` with ``Φ`` the standard normal CDF."""
        z = (np.asarray(self.mean) - age) / np.asarray(self.sd)
        return np.asarray(ndtr(z), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class WeibullLifetime(Lifetime):
    """Weibull lifetime: ``S(a) = exp(−(a / scale) ** shape)`` for ``a ≥ 0``.

    The mean lifetime is ``scale · Γ(1 + 1 / shape)``.
    """

    shape: npt.ArrayLike
    scale: npt.ArrayLike

    def __post_init__(self) -> None:
        """Validate and convert the parameters to float arrays."""
        object.__setattr__(self, "shape", _as_param(self.shape, "shape", positive=True))
        object.__setattr__(self, "scale", _as_param(self.scale, "scale", positive=True))

    @property
    def param_shape(self) -> tuple[int, ...]:
        """Broadcast shape of ``shape`` and ``scale``."""
        return np.broadcast_shapes(np.shape(self.shape), np.shape(self.scale))

    def survival(self, age: FloatArray) -> FloatArray:
        """``S(a) = exp(−(a / scale) ** shape)``, and ``1`` for ``a < 0``."""
        ratio = np.maximum(age, 0.0) / np.asarray(self.scale)
        return np.asarray(np.exp(-np.power(ratio, np.asarray(self.shape))), dtype=np.float64)


@dataclass(frozen=True)
class StockResult:
    """Result of :func:`inflow_driven`; time is the first axis, cohort the second.

    ``stock_by_cohort`` and ``outflow_by_cohort`` have shape ``(T, T, *trailing)`` (zero for
    cohorts after the year); ``inflow``, ``stock`` and ``outflow`` have shape ``(T, *trailing)``.
    """

    inflow: FloatArray
    stock_by_cohort: FloatArray
    outflow_by_cohort: FloatArray
    stock: FloatArray
    outflow: FloatArray


def _age_matrix_factors(factors: FloatArray, n_t: int) -> FloatArray:
    """Year × cohort matrix of per-age factors: ``m[t, c] = factors[t − c]``, 0 if c > t."""
    age = np.arange(n_t)[:, None] - np.arange(n_t)[None, :]
    mask = (age >= 0).reshape(age.shape + (1,) * (factors.ndim - 1))
    return np.where(mask, factors[np.clip(age, 0, None)], 0.0)


def _per_age(lifetime: Lifetime, n_ages: int, trailing: tuple[int, ...]) -> tuple[FloatArray, ...]:
    """Survival factors and exit shares, broadcast to ``(n_ages, *trailing)``."""
    pshape = lifetime.param_shape
    target = (n_ages, *trailing)
    try:
        if len(pshape) > len(trailing):
            raise ValueError("too many parameter dimensions")
        aligned = (n_ages,) + (1,) * (len(trailing) - len(pshape)) + pshape
        sf = np.broadcast_to(lifetime.survival_factors(n_ages).reshape(aligned), target)
        exits = np.broadcast_to(lifetime.exit_shares(n_ages).reshape(aligned), target)
    except ValueError as err:
        raise ValueError(
            f"lifetime parameters of shape {pshape} do not broadcast to the "
            f"trailing shape {trailing}"
        ) from err
    return sf, exits


def inflow_driven(inflow: npt.ArrayLike, lifetime: Lifetime) -> StockResult:
    """Run the inflow-driven dynamic stock model over the whole horizon.

    ``inflow`` has shape ``(T, *trailing)``, year first. With ``sf[k] = S(k + ½)``::

        stock_by_cohort[t, c]   = inflow[c] · sf[t − c]
        outflow_by_cohort[t, c] = inflow[c] · (sf[t − c − 1] − sf[t − c]),   sf[−1] = 1

    for ``c ≤ t`` (zero otherwise); ``stock`` and ``outflow`` sum these over cohorts.
    """
    q = np.asarray(inflow, dtype=np.float64)
    if q.ndim < 1:
        raise ValueError("inflow must have a time axis")
    n_t, trailing = q.shape[0], q.shape[1:]
    sf, exits = _per_age(lifetime, n_t, trailing)
    stock_by_cohort = _age_matrix_factors(sf, n_t) * q[None, ...]
    outflow_by_cohort = _age_matrix_factors(exits, n_t) * q[None, ...]
    return StockResult(
        inflow=q,
        stock_by_cohort=stock_by_cohort,
        outflow_by_cohort=outflow_by_cohort,
        stock=stock_by_cohort.sum(axis=1),
        outflow=outflow_by_cohort.sum(axis=1),
    )


def historic_inflows(
    base_inflow: npt.ArrayLike, growth_rate: npt.ArrayLike, years: int
) -> FloatArray:
    """Assumed inflows of the ``years`` years before the base year, oldest first.

    The inflow grew by ``growth_rate`` per year (a fraction: 0.05 is 5 %/y) up to
    ``base_inflow``, the base-year inflow; year ``base − k`` gets
    ``base_inflow · (1 + growth_rate) ** −k`` for ``k = years … 1``. The result has shape
    ``(years, *broadcast(base_inflow, growth_rate).shape)``.
    """
    if years < 0:
        raise ValueError("years must be >= 0")
    base = np.asarray(base_inflow, dtype=np.float64)
    g = np.asarray(growth_rate, dtype=np.float64)
    if not np.all(g > -1.0):
        raise ValueError("growth_rate must be > -1")
    shape = np.broadcast_shapes(base.shape, g.shape)
    k = np.arange(years, 0, -1, dtype=np.float64).reshape((years,) + (1,) * len(shape))
    return np.asarray(base * np.power(1.0 + g, -k), dtype=np.float64)


class MagnetStock:
    """Incremental inflow-driven stock for the year-by-year simulator.

    Simulation years are indexed ``0 … n_years − 1``. ``past_inflows`` (shape
    ``(n_hist, *shape)``, oldest first, the last one the year before index 0) build the stock
    already in use at the start; see :func:`historic_inflows`. Same formulas and timing
    convention as :func:`inflow_driven`: the outflow of year ``t`` depends on the inflows of
    earlier years and of year ``t`` itself (the share ``1 − S(½)`` of it). Use
    :meth:`outflow_from_past` for the part known before year ``t``'s inflow is set.
    """

    def __init__(
        self,
        n_years: int,
        lifetime: Lifetime,
        shape: tuple[int, ...] = (),
        past_inflows: npt.ArrayLike | None = None,
    ) -> None:
        if n_years < 0:
            raise ValueError("n_years must be >= 0")
        shape = tuple(shape)
        if past_inflows is None:
            past = np.zeros((0, *shape))
        else:
            past = np.asarray(past_inflows, dtype=np.float64)
            if past.ndim < 1 or past.shape[1:] != shape:
                raise ValueError(
                    f"past_inflows must have shape (n_hist, *{shape}), got {past.shape}"
                )
        self._n_years = n_years
        self._n_hist = past.shape[0]
        self._shape = shape
        n_total = self._n_hist + n_years
        self._inflow = np.zeros((n_total, *shape))
        self._inflow[: self._n_hist] = past
        self._set = np.zeros(n_total, dtype=bool)
        self._set[: self._n_hist] = True
        self._sf, self._exits = _per_age(lifetime, n_total, shape)

    @property
    def n_years(self) -> int:
        """Number of simulation years."""
        return self._n_years

    @property
    def shape(self) -> tuple[int, ...]:
        """Trailing shape of the inflows, stocks and outflows."""
        return self._shape

    @property
    def initial_stock(self) -> FloatArray:
        """Stock in use at the end of the year before index 0 (from ``past_inflows``)."""
        n = self._n_hist
        if n == 0:
            return np.zeros(self._shape)
        return np.asarray((self._inflow[:n] * self._sf[n - 1 :: -1]).sum(axis=0), dtype=np.float64)

    def _abs(self, t_index: int) -> int:
        """Internal index (history first) of simulation year ``t_index``, range-checked."""
        if not 0 <= t_index < self._n_years:
            raise IndexError(f"year index {t_index} outside 0 … {self._n_years - 1}")
        return self._n_hist + t_index

    def _require_set(self, last_abs: int) -> None:
        """Raise unless the inflows of all internal years up to ``last_abs`` are set."""
        missing = np.flatnonzero(~self._set[: last_abs + 1])
        if missing.size:
            raise ValueError(f"inflow of year index {int(missing[0]) - self._n_hist} is not set")

    def add_inflow(self, t_index: int, inflow: npt.ArrayLike) -> None:
        """Set the inflow into use of year ``t_index`` (replacing any earlier value)."""
        t = self._abs(t_index)
        self._inflow[t] = np.broadcast_to(np.asarray(inflow, dtype=np.float64), self._shape)
        self._set[t] = True

    def inflow(self, t_index: int) -> FloatArray:
        """The inflow set for year ``t_index``."""
        t = self._abs(t_index)
        self._require_set(t)
        return np.array(self._inflow[t], dtype=np.float64)

    def outflow_from_past(self, t_index: int) -> FloatArray:
        """Outflow of year ``t`` from earlier cohorts: ``Σ_{c<t} inflow[c]·(sf[t−c−1] − sf[t−c])``.

        Known before year ``t``'s inflow is set (only the inflows before ``t`` must be set).
        """
        t = self._abs(t_index)
        self._require_set(t - 1)
        return np.asarray((self._inflow[:t] * self._exits[t:0:-1]).sum(axis=0), dtype=np.float64)

    def outflow(self, t_index: int) -> FloatArray:
        """Total outflow of year ``t``: :meth:`outflow_from_past` plus ``inflow[t]·(1 − sf[0])``."""
        t = self._abs(t_index)
        self._require_set(t)
        return np.asarray(
            (self._inflow[: t + 1] * self._exits[t::-1]).sum(axis=0), dtype=np.float64
        )

    def stock(self, t_index: int) -> FloatArray:
        """Stock in use at the end of year ``t``: ``Σ_{c≤t} inflow[c]·sf[t−c]``."""
        t = self._abs(t_index)
        self._require_set(t)
        return np.asarray((self._inflow[: t + 1] * self._sf[t::-1]).sum(axis=0), dtype=np.float64)
