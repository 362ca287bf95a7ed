"""Demand side: magnet grades (recipes), end-use sectors, their demand curves and substitutes."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rareflow.model.elements import Element
from rareflow.model.numbers import Real
from rareflow.model.sourced import Sourced


class MagnetGrade(Sourced):
    """A magnet recipe: kg of each rare earth (oxide equivalent, kg REO) per tonne of magnet.

    NdFeB grades differ mainly in Dy/Tb content (high-coercivity grades for hot motors); SmCo
    magnets use Sm. Content is stated as oxide equivalent so mass balances stay in t REO.
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    family: Literal["ndfeb", "smco"]
    content_kg_reo_per_t: dict[Element, Real]

    @field_validator("content_kg_reo_per_t")
    @classmethod
    def _plausible_content(cls, content: dict[Element, float]) -> dict[Element, float]:
        if any(value < 0 for value in content.values()):
            raise ValueError("magnet content must be non-negative")
        total = sum(content.values())
        if not 0 < total < 1000:
            raise ValueError(f"total rare-earth content must be within (0, 1000) kg/t, got {total}")
        return content


class Substitution(BaseModel):
    """A priced alternative to rare-earth magnets (ferrite, induction motors, Dy-free designs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    technology: str
    available_from: int
    max_share: Real = Field(ge=0, le=1, description="share of sector demand it can serve")
    cost_usd_per_kg: Real = Field(ge=0, description="cost per kg of magnet demand replaced")


class Sector(Sourced):
    """An end-use sector with its magnet mix, demand curve, substitutes, growth and lifetime.

    ``kind='magnet'`` sectors demand t of magnet split over ``magnet_mix`` (grade → share);
    ``kind='oxide'`` sectors (catalysts, glass, phosphors, ...) demand t REO of single elements.
    Each demand record of the sector is a constant-elasticity curve
    (:mod:`rareflow.model.demand_curve`) through its reference quantity and a reference price:
    ``reference_price_usd_per_kg`` per kg of magnet for magnet sectors, the base-year reference
    oxide price of the region's market for oxide sectors. ``elasticity`` is the short-run
    own-price elasticity of demand (a positive magnitude). ``growth`` maps a year to the annual
    growth rate applied from that year on. Lifetime parameters describe magnets in use.
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    kind: Literal["magnet", "oxide"]
    magnet_mix: dict[str, Real] = Field(default_factory=dict)
    min_purity_pct: Real = Field(default=95.0, ge=80, le=100)
    elasticity: Real = Field(gt=0, le=5, description="short-run own-price elasticity, magnitude")
    reference_price_usd_per_kg: Real | None = Field(
        default=None, gt=0, description="price at the reference quantity (magnet sectors)")
    substitution: Substitution | None = None
    growth: dict[int, Real] = Field(default_factory=dict)
    lifetime_mean_years: Real = Field(default=10.0, gt=0)
    lifetime_sd_years: Real = Field(default=3.0, ge=0)
    collection_rate: Real = Field(default=0.0, ge=0, le=1)
    swarf_share: Real = Field(
        default=0.0, ge=0, lt=1, description="manufacturing scrap per t of magnet made"
    )
    priority: int = Field(default=0, description="higher is served first when rationed")

    @model_validator(mode="after")
    def _consistent(self) -> Sector:
        if self.kind == "magnet":
            if not self.magnet_mix:
                raise ValueError("a magnet sector needs 'magnet_mix'")
            total = sum(self.magnet_mix.values())
            if not math.isclose(total, 1.0, abs_tol=1e-3):
                raise ValueError(f"magnet_mix shares must sum to 1, got {total:.4f}")
            if self.reference_price_usd_per_kg is None:
                raise ValueError("a magnet sector needs 'reference_price_usd_per_kg'")
        elif self.reference_price_usd_per_kg is not None:
            raise ValueError("an oxide sector takes its reference prices from prices.yaml; "
                             "remove 'reference_price_usd_per_kg'")
        return self

    def growth_rate(self, year: int) -> float:
        """Annual growth rate applied to demand in ``year`` (the latest step at or before it)."""
        steps = [start for start in self.growth if start <= year]
        return self.growth[max(steps)] if steps else 0.0


class SectorDemand(Sourced):
    """Base-year demand of one sector in one region.

    ``tonnes`` is t of magnet for magnet sectors and t REO of ``element`` for oxide sectors.
    """

    region: str
    sector: str
    year: int
    tonnes: Real = Field(ge=0)
    element: Element | None = None
