"""``recycling_target``: a share of demand to be met from recycled material by a given year."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rareflow.model.numbers import Real
from rareflow.scenario.dates import Span, start_date
from rareflow.scenario.instruments.base import InstrumentBase
from rareflow.scenario.names import Area, Enforcement, Reference


class RecyclingTarget(InstrumentBase):
    """Recycled material must supply ``share`` of ``region``'s magnet rare-earth demand.

    Meaning: by ``by_year`` (e.g. 20 % of US demand from recycling by 2030, as Jui Chia-wei
    describes the US target, North America IP News, 2 Oct 2025), reached from zero in
    ``from_year`` along ``path`` (``linear`` ramp, or ``step`` at ``by_year``), and
    held afterwards.

    What counts (``counts``, as the target's text defines it): ``end_of_life`` - oxide
    recovered from collected end-of-life magnets (the default) - and optionally
    ``pre_consumer`` - manufacturing scrap (magnet-making swarf). Recycled oxide counts only up
    to what the counted scrap can yield; swarf recycled when ``pre_consumer`` is not counted
    adds nothing, so a target cannot be met by building magnet plants.

    Collection is the lever: with ``collection_rate`` the region collects that share of its
    end-of-life magnets once the target is fully ramped (from the sectors' own rates, along the
    same path), and the government pays ``collection_cost_usd_per_kg`` per kg REO of the extra
    scrap collected - the policy's fiscal cost.

    How it acts on the market: with ``enforcement: constraint`` the LP requires counted recycled
    oxide in the region >= :meth:`required_share` x its magnet REE consumption (with a penalty
    for shortfall so the LP stays feasible); with ``benchmark`` the share is only reported.
    """

    type: Literal["recycling_target"] = "recycling_target"
    region: Area
    share: Real = Field(gt=0, le=1)
    by_year: int
    from_year: int = Field(default=2025, description="year the path starts from zero")
    path: Literal["linear", "step"] = "linear"
    enforcement: Enforcement = "constraint"
    counts: tuple[Literal["end_of_life", "pre_consumer"], ...] = Field(
        default=("end_of_life",), min_length=1,
        description="scrap the target counts: end-of-life, optionally pre-consumer (swarf)")
    collection_rate: Real | None = Field(
        default=None, gt=0, le=1,
        description="share of end-of-life magnets collected in the region once fully ramped")
    collection_cost_usd_per_kg: Real = Field(
        default=30.0, ge=0,
        description="paid per kg REO of extra end-of-life scrap collected (assumption: "
                    "collection, dismantling and magnet extraction, ~half an NdPr oxide price)")

    @model_validator(mode="after")
    def _ordered(self) -> RecyclingTarget:
        if self.from_year >= self.by_year:
            raise ValueError("'from_year' must be before 'by_year'")
        return self

    def window(self) -> Span:
        """From ``from_year`` on."""
        return start_date(self.from_year), None

    def required_share(self, year: int) -> float:
        """Share of demand that must come from recycling in ``year``."""
        if year >= self.by_year:
            return self.share
        if self.path == "step" or year <= self.from_year:
            return 0.0
        return self.share * (year - self.from_year) / (self.by_year - self.from_year)

    def ramp(self, year: int) -> float:
        """How far along its path the target is in ``year`` (0..1)."""
        return self.required_share(year) / self.share

    def references(self) -> list[Reference]:
        """The region or group."""
        return [Reference("area", self.region, ("region",))]
