"""Deposits and ore types: where rare earths are mined and in which element mix."""

from __future__ import annotations

import math

from pydantic import Field, field_validator

from rareflow.model.elements import DepositClass, Element
from rareflow.model.numbers import Real
from rareflow.model.sourced import Sourced

SHARE_TOLERANCE = 1e-3


class Deposit(Sourced):
    """A deposit (or ore type) whose mined REO comes in fixed element shares.

    ``shares`` are oxide mass fractions of total REO over the tracked elements and must sum to 1
    (within 0.1 %). Co-production follows from them: mining for NdPr also yields La and Ce.
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    country: str
    deposit_class: DepositClass
    shares: dict[Element, Real]
    reserves_t_reo: Real | None = Field(default=None, ge=0)

    @field_validator("shares")
    @classmethod
    def _shares_sum_to_one(cls, shares: dict[Element, float]) -> dict[Element, float]:
        negative = [element for element, share in shares.items() if share < 0]
        if negative:
            raise ValueError(f"element shares must be non-negative; negative for {negative}")
        total = sum(shares.values())
        if not math.isclose(total, 1.0, abs_tol=SHARE_TOLERANCE):
            raise ValueError(f"element shares must sum to 1, got {total:.4f}")
        return shares
