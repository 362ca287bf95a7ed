"""Probability distributions for uncertain inputs, each validated and sampled reproducibly.

Every distribution is selected by its ``dist`` key and offers ``sample(rng)`` (one float),
``sample_n(rng, n)`` (a vector), ``mean()`` and ``bounds()`` (the support, used to check that a
yield stays within 0..1 or a delay is not absurd). Draws depend only on the generator passed in,
so an ensemble seeded with a :class:`numpy.random.SeedSequence` is reproducible.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from rareflow.model.numbers import Real
from rareflow.scenario.base import StrictModel

FloatArray = NDArray[np.float64]

#: A truncated normal must keep at least this probability mass inside its bounds.
MIN_TRUNCATED_MASS = 1e-3


class _Distribution(StrictModel):
    """Common interface of all distributions."""

    @model_validator(mode="before")
    @classmethod
    def _right_kind(cls, data: Any) -> Any:
        expected = cls.model_fields["dist"].default
        if isinstance(data, dict) and "dist" in data and data["dist"] != expected:
            raise PydanticCustomError(
                "wrong_distribution",
                "expected a '{expected}' distribution here, got '{given}'",
                {"expected": expected, "given": str(data["dist"])},
            )
        return data

    def sample(self, rng: np.random.Generator) -> float:
        """One draw."""
        return float(self.sample_n(rng, 1)[0])

    def sample_n(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` independent draws."""
        raise NotImplementedError

    def mean(self) -> float:
        """Expected value."""
        raise NotImplementedError

    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value a draw can take (may be infinite)."""
        raise NotImplementedError


class Normal(_Distribution):
    """Normal with ``mean`` and ``sd``; optional ``low``/``high`` truncate it (redrawn)."""

    dist: Literal["normal"] = "normal"
    mean_: Real = Field(alias="mean")
    sd: Real = Field(ge=0)
    low: Real | None = None
    high: Real | None = None

    @model_validator(mode="after")
    def _check(self) -> Normal:
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        if lo >= hi:
            raise ValueError("'low' must be below 'high'")
        if self.sd == 0:
            if not lo <= self.mean_ <= hi:
                raise ValueError("with sd 0 the mean must lie within low..high")
        elif self._mass(lo, hi) < MIN_TRUNCATED_MASS:
            raise ValueError("low..high keeps almost none of the distribution; check the bounds")
        return self

    def _mass(self, lo: float, hi: float) -> float:
        def cdf(x: float) -> float:
            return 0.5 * (1 + math.erf((x - self.mean_) / (self.sd * math.sqrt(2))))

        return cdf(hi) - cdf(lo)

    def sample_n(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws, redrawing those outside ``low``..``high``."""
        lo, hi = self.bounds()
        out = rng.normal(self.mean_, self.sd, n)
        for _ in range(10_000):
            bad = (out < lo) | (out > hi)
            if not bad.any():
                break
            out[bad] = rng.normal(self.mean_, self.sd, int(bad.sum()))
        return np.clip(out, lo, hi)

    def mean(self) -> float:
        """Mean of the untruncated normal (exact when there are no bounds)."""
        return self.mean_

    def bounds(self) -> tuple[float, float]:
        """``low``..``high`` (infinite where not given)."""
        return (
            -math.inf if self.low is None else self.low,
            math.inf if self.high is None else self.high,
        )


class LogNormal(_Distribution):
    """Log-normal with ``median`` (> 0) and ``sigma``, the s.d. of the logarithm."""

    dist: Literal["lognormal"] = "lognormal"
    median: Real = Field(gt=0)
    sigma: Real = Field(ge=0)

    def sample_n(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws."""
        return rng.lognormal(math.log(self.median), self.sigma, n)

    def mean(self) -> float:
        """``median * exp(sigma**2 / 2)``."""
        return self.median * math.exp(self.sigma**2 / 2)

    def bounds(self) -> tuple[float, float]:
        """Zero to infinity."""
        return 0.0, math.inf


class Uniform(_Distribution):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"] = "uniform"
    low: Real
    high: Real

    @model_validator(mode="after")
    def _check(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("'high' must not be below 'low'")
        return self

    def sample_n(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws."""
        return rng.uniform(self.low, self.high, n)

    def mean(self) -> float:
        """Midpoint."""
        return (self.low + self.high) / 2

    def bounds(self) -> tuple[float, float]:
        """``low``..``high``."""
        return self.low, self.high


class Triangular(_Distribution):
    """Triangular with ``low`` <= ``mode`` <= ``high`` (``low`` < ``high``)."""

    dist: Literal["triangular"] = "triangular"
    low: Real
    mode: Real
    high: Real

    @model_validator(mode="after")
    def _check(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("triangular needs low <= mode <= high and low < high")
        return self

    def sample_n(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws."""
        return rng.triangular(self.low, self.mode, self.high, n)

    def mean(self) -> float:
        """``(low + mode + high) / 3``."""
        return (self.low + self.mode + self.high) / 3

    def bounds(self) -> tuple[float, float]:
        """``low``..``high``."""
        return self.low, self.high


class Discrete(_Distribution):
    """A finite set of ``values`` with ``probabilities`` (same length, non-negative, sum 1)."""

    dist: Literal["discrete"] = "discrete"
    values: tuple[Real, ...] = Field(min_length=1)
    probabilities: tuple[Real, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Discrete:
        if len(self.values) != len(self.probabilities):
            raise ValueError(
                f"{len(self.values)} values but {len(self.probabilities)} probabilities"
            )
        if any(p < 0 for p in self.probabilities):
            raise ValueError("probabilities must be non-negative")
        if not math.isclose(sum(self.probabilities), 1.0, abs_tol=1e-6):
            raise ValueError(f"probabilities must sum to 1, got {sum(self.probabilities):.6f}")
        return self

    def sample_n(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws."""
        probabilities = np.asarray(self.probabilities, dtype=float)
        values = np.asarray(self.values, dtype=float)
        return rng.choice(values, size=n, p=probabilities / probabilities.sum())

    def mean(self) -> float:
        """Probability-weighted mean."""
        return sum(v * p for v, p in zip(self.values, self.probabilities, strict=True))

    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value."""
        return min(self.values), max(self.values)


class Bernoulli(_Distribution):
    """1 with probability ``p``, else 0 (e.g. whether suspended controls return)."""

    dist: Literal["bernoulli"] = "bernoulli"
    p: Real = Field(ge=0, le=1)

    def sample_n(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws of 0.0 or 1.0."""
        return (rng.random(n) < self.p).astype(float)

    def happens(self, rng: np.random.Generator) -> bool:
        """One draw as a boolean."""
        return self.sample(rng) == 1.0

    def mean(self) -> float:
        """``p``."""
        return self.p

    def bounds(self) -> tuple[float, float]:
        """0..1."""
        return 0.0, 1.0


#: Any distribution, chosen by its ``dist`` key.
Distribution = Annotated[
    Normal | LogNormal | Uniform | Triangular | Discrete | Bernoulli,
    Field(discriminator="dist"),
]
