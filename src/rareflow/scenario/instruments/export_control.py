"""``export_control``: an exporter restricts rare-earth exports (ban, quota or licences)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from rareflow.model.elements import Element
from rareflow.model.numbers import Real
from rareflow.model.world import World
from rareflow.scenario.dates import DateOrYear, end_date, start_date
from rareflow.scenario.dates import active_fraction as _fraction
from rareflow.scenario.instruments.base import DatedInstrument
from rareflow.scenario.names import (
    ALL,
    Area,
    ElementSymbol,
    Product,
    Reference,
    area_refs,
    expand_areas,
    tracked,
)

ControlMode = Literal["ban", "quota", "licence"]


class ExportControl(DatedInstrument):
    """An exporter's control on exports of listed elements and products to listed destinations.

    Meaning: from ``start`` to ``end`` (inclusive), exports by ``exporter`` of ``elements`` in the
    listed ``products`` to ``destinations`` (minus ``except``; ``all`` = every other region) need
    permission. Element symbols are those of the policy text (``Gd``, ``Lu``, ``Ho``...); the market
    acts on the tracked elements they map to (:meth:`tracked_elements`; Gd, Ho, Er, Tm, Eu, Yb, Lu
    and Sc all fall in ``other_heavy``).

    How it acts on the market (per year, scaled by :meth:`active_fraction`):

    * ``ban``: covered flows are blocked (:meth:`blocked_fraction` = active share).
    * ``quota``: covered flows summed over destinations are capped at :meth:`quota_t` t REO.
    * ``licence``: an ``approval_share`` of the reference flow (what an unpolicied market would
      carry in the current year: the last uncontrolled year's flow grown with the destinations'
      demand for the controlled elements) is licensed; the first ``delay_months`` after
      ``start`` nothing passes while licences are processed; :meth:`blocked_fraction` gives
      the blocked share of the year.
    * ``de_minimis`` (e.g. 0.001 = 0.1 %): the control also reaches products made outside the
      exporter that contain at least this share by value of exporter-origin rare earths - the
      engine applies it to the "tainted" (China-origin) magnet variables of plants abroad.
    * ``technology_controls`` (or ``technology`` among ``products``): facilities abroad that need
      the exporter's process technology (``uses_chinese_technology`` in the facility data, each
      flag with its source) cannot start or expand while the control is active - a delay of
      their start; plants already operating keep running.
    * Precautionary buying: from ``announced`` (default: ``start``) until ``end``, buyers and
      traders in the destinations want more stock of the controlled elements
      (:meth:`precaution_fraction`; the engine raises their target inventory cover); when the
      control ends they sell the extra stock again.
    """

    type: Literal["export_control"] = "export_control"
    exporter: str = Field(default="CHN", description="region id of the exporting country")
    elements: tuple[ElementSymbol, ...] = Field(default=(), description="element symbols")
    products: tuple[Product, ...] = Field(
        default=("oxide", "metal", "magnet"), min_length=1, description="controlled products"
    )
    destinations: tuple[Area, ...] = Field(default=(ALL,), min_length=1)
    except_: tuple[Area, ...] = Field(default=(), alias="except", description="exempt areas")
    announced: DateOrYear | None = Field(
        default=None, description="when the control became known (default: start)")
    mode: ControlMode
    quota_t_per_y: Real | None = Field(default=None, ge=0, description="quota mode, t REO/y")
    approval_share: Real | None = Field(default=None, ge=0, le=1, description="licence mode")
    delay_months: Real = Field(default=0.0, ge=0, le=60, description="licence processing lag")
    de_minimis: Real | None = Field(default=None, gt=0, lt=1, description="share by value")
    technology_controls: bool = False

    @field_validator("destinations", mode="before")
    @classmethod
    def _single_destination(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> ExportControl:
        if not self.elements and set(self.products) - {"technology"}:
            raise ValueError("'elements' is required unless only 'technology' is controlled")
        if self.announced is not None and start_date(self.announced) > start_date(self.start):
            raise ValueError("'announced' is after 'start'")
        if (self.mode == "quota") != (self.quota_t_per_y is not None):
            raise ValueError("'quota_t_per_y' is required with mode 'quota' and only then")
        if (self.mode == "licence") != (self.approval_share is not None):
            raise ValueError("'approval_share' is required with mode 'licence' and only then")
        if self.delay_months and self.mode != "licence":
            raise ValueError("'delay_months' applies only to mode 'licence'")
        return self

    def precaution_fraction(self, year: int) -> float:
        """Share of ``year`` (0..1) from the announcement to the end, net of suspensions."""
        first = start_date(self.announced if self.announced is not None else self.start)
        window = (first, None if self.end is None else end_date(self.end))
        return _fraction(year, window, (span.span() for span in self.suspended))

    def tracked_elements(self) -> tuple[Element, ...]:
        """Tracked elements the control covers."""
        return tracked(self.elements)

    @property
    def controls_technology(self) -> bool:
        """Whether new capacity abroad that needs the exporter's technology is blocked."""
        return self.technology_controls or "technology" in self.products

    def blocked_fraction(self, year: int) -> float:
        """Share of the year's reference flow that cannot leave (ban and licence modes)."""
        if self.mode == "quota":
            return 0.0
        active = self.active_fraction(year)
        if self.mode == "ban" or active == 0:
            return active
        assert self.approval_share is not None
        lag = 0.0
        if self.delay_months:
            first = start_date(self.start)
            lag_end = first + dt.timedelta(days=round(self.delay_months * 30.436875) - 1)
            pauses = (span.span() for span in self.suspended)
            lag = min(active, _fraction(year, (first, lag_end), pauses))
        return lag + (active - lag) * (1 - self.approval_share)

    def quota_t(self, year: int) -> float | None:
        """Quota available in ``year`` (t REO) in quota mode, pro rata to the active share."""
        if self.quota_t_per_y is None:
            return None
        active = self.active_fraction(year)
        return self.quota_t_per_y * active if active else None

    def destination_regions(self, world: World) -> list[str]:
        """Region ids covered: destinations expanded, minus ``except``, minus the exporter."""
        covered = expand_areas(self.destinations, world)
        excluded = set(expand_areas(self.except_, world)) | {self.exporter}
        return [region for region in covered if region not in excluded]

    def references(self) -> list[Reference]:
        """Exporter, destinations and exceptions."""
        return [
            Reference("region", self.exporter, ("exporter",)),
            *area_refs("destinations", self.destinations),
            *area_refs("except", self.except_),
        ]

