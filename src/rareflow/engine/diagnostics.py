"""Explain why a year's LP has no solution, in domain terms (facility, region, element)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import highspy

from rareflow.engine.lpcore import new_highs

if TYPE_CHECKING:
    from rareflow.engine.market import MarketModel

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


def explain_infeasibility(model: MarketModel) -> list[str]:
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
