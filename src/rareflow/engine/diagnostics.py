"""Explain why a year's LP has no solution, in domain terms (facility, region, element)."""

from __future__ import annotations

from typing import Protocol

import highspy
import numpy as np

from rareflow.engine.lpcore import LinearProgram, new_highs


class BoundedModel(Protocol):
    """What the explanation reads of a market: its solver, programme and current bounds.

    :class:`~rareflow.engine.market.MarketModel` is one; a protocol keeps this module from
    importing the market that imports it.
    """

    @property
    def highs(self) -> highspy.Highs:
        """The solver holding the year's model."""

    @property
    def lp(self) -> LinearProgram:
        """The labelled linear programme."""

    @property
    def row_lower(self) -> np.ndarray:
        """Row lower bounds of the year."""

    @property
    def row_upper(self) -> np.ndarray:
        """Row upper bounds of the year."""

    @property
    def col_lower(self) -> np.ndarray:
        """Column lower bounds of the year."""

    @property
    def col_upper(self) -> np.ndarray:
        """Column upper bounds of the year."""

#: Most constraints listed in an infeasibility report.
MAX_LISTED = 12


class InfeasibleYearError(RuntimeError):
    """A year's market has no feasible (or no bounded) solution; names the conflicting parts."""

    def __init__(self, year: int | None, status: str, conflicts: list[str]) -> None:
        self.year = year
        self.status = status
        self.conflicts = conflicts
        listed = "\n  ".join(conflicts) if conflicts else "(HiGHS found no smaller conflict set)"
        super().__init__(
            f"market year {year} is {status.lower()}; conflicting constraints and bounds:\n"
            f"  {listed}"
        )


def explain_infeasibility(model: BoundedModel) -> list[str]:
    """List the rows and bounds of an irreducible infeasible subset (IIS), labelled by domain.

    Uses HiGHS's IIS finder on a copy of the model; falls back to the rows whose bounds are
    inconsistent on their own when no IIS is returned (e.g. unbounded models).
    """
    highs = new_highs()
    highs.passModel(model.highs.getLp())
    highs.setOptionValue("iis_strategy", highspy.IisStrategy.kIisStrategyFromLp)
    try:
        status, iis = highs.getIis()
    except Exception:  # pragma: no cover - HiGHS builds without IIS support
        return []
    labels: list[str] = []
    if status == highspy.HighsStatus.kOk and iis.valid_:
        for index in list(iis.row_index_)[:MAX_LISTED]:
            labels.append(_bounded(model.lp.describe_row(int(index)),
                                   model.row_lower[index], model.row_upper[index]))
        for index in list(iis.col_index_)[:MAX_LISTED]:
            labels.append(_bounded(model.lp.describe_column(int(index)),
                                   model.col_lower[index], model.col_upper[index]))
    return labels


def _bounded(label: str, lower: float, upper: float) -> str:
    low = "-inf" if lower <= -highspy.kHighsInf else f"{lower:g}"
    high = "inf" if upper >= highspy.kHighsInf else f"{upper:g}"
    return f"{label} within [{low}, {high}]"
