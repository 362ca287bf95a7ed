"""Market facts: trade costs, reference prices, and reported mine production for calibration."""

from __future__ import annotations

import re
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rareflow.model.elements import Element
from rareflow.model.numbers import Real
from rareflow.model.sourced import Sourced

TradedProduct = Literal["concentrate", "oxide", "metal", "magnet", "mixed_heavy"]

#: A standing tariff's key: ``"EXPORTER>IMPORTER:product"`` (region ids, a traded product).
_PRODUCTS = "|".join(get_args(TradedProduct))
TARIFF_KEY = re.compile(
    rf"^(?P<exporter>[A-Z]{{3}})>(?P<importer>[A-Z]{{3}}):(?P<product>{_PRODUCTS})$"
)


def tariff_regions(key: str) -> tuple[str, str]:
    """Exporter and importer of a valid tariff ``key``."""
    match = TARIFF_KEY.match(key)
    assert match is not None, key
    return match["exporter"], match["importer"]


class TradeCosts(Sourced):
    """Cost of moving a product between two different regions (USD/kg), plus standing tariffs.

    ``tariffs`` are ad-valorem-equivalent charges in USD/kg keyed ``"EXPORTER>IMPORTER:product"``.
    ``reexport_hubs``: regions where traders re-export metal and magnets they imported.
    Elsewhere a region exports only the metal and magnets it made (the rule of origin: a product
    keeps the country of its last substantial transformation, so the exporter is that country
    and tariffs and controls on a route apply to the product's origin). Oxide is resold freely
    and keeps its China-origin tag.
    """

    transport_usd_per_kg: dict[TradedProduct, Real]
    tariffs_usd_per_kg: dict[str, Real] = Field(default_factory=dict)
    tariffs_from_year: dict[str, int] = Field(
        default_factory=dict,
        description="first year a tariff applies, by the same key (absent: it always applies)",
    )
    reexport_hubs: tuple[str, ...] = Field(
        default=(), description="regions that may re-export imported metal and magnets")

    @field_validator("transport_usd_per_kg", "tariffs_usd_per_kg")
    @classmethod
    def _not_negative(cls, costs: dict[str, float]) -> dict[str, float]:
        negative = [f"'{key}': {value}" for key, value in costs.items() if value < 0]
        if negative:
            raise ValueError(f"costs and tariffs cannot be negative: {', '.join(negative)}")
        return costs

    @field_validator("tariffs_usd_per_kg", "tariffs_from_year")
    @classmethod
    def _well_formed_keys(cls, table: dict[str, float]) -> dict[str, float]:
        for key in table:
            match = TARIFF_KEY.match(key)
            if match is None:
                raise ValueError(
                    f"tariff key '{key}' is not \"EXPORTER>IMPORTER:product\" (region ids such "
                    f"as CHN>USA, product one of {', '.join(get_args(TradedProduct))})"
                )
            if match["exporter"] == match["importer"]:
                raise ValueError(f"tariff key '{key}' has the same exporter and importer")
        return table

    def tariffs_in(self, year: int) -> dict[str, float]:
        """Tariffs (USD/kg by ``"EXPORTER>IMPORTER:product"``) in force in ``year``."""
        return {
            key: value
            for key, value in self.tariffs_usd_per_kg.items()
            if self.tariffs_from_year.get(key, year) <= year
        }


class ReferencePrice(Sourced):
    """An observed price (USD/kg of oxide) used to calibrate and check the market."""

    element: Element
    market: Literal["china", "outside_china"]
    year: int
    usd_per_kg: Real = Field(gt=0)


class MineProduction(Sourced):
    """Reported mine production of one country in one year (t REO), from a named vintage."""

    country: str
    year: int
    t_reo: Real = Field(ge=0)
    vintage: str = Field(description="e.g. 'USGS MCS 2025'")
    reserves_t_reo: Real | None = Field(default=None, ge=0)


class StageShare(Sourced):
    """A published share of world output or capacity at one stage held by one country."""

    country: str
    stage: Literal["mining", "separation", "metal", "magnet"]
    year: int
    share: Real = Field(ge=0, le=1)
    tolerance: Real = Field(gt=0, le=0.2, description="absolute tolerance used in checks")


class Stockpile(Sourced):
    """A strategic stock of one element held in one region at the start of the base year.

    ``support_price_share``: the holder buys for the stock (up to its capacity) whenever the
    price falls below this share of the base-year reference price (a state reserve supporting
    its producers); None: it buys only under a stockpile policy.
    """

    region: str
    element: Element
    initial_t: Real = Field(ge=0)
    capacity_t: Real = Field(ge=0)
    support_price_share: Real | None = Field(default=None, gt=0, le=1)


class ScrapSupply(Sourced):
    """Rare-earth scrap (t REO) that reached recyclers in one region in one year, by element.

    ``kind`` says what it is: ``swarf`` (magnet-making scrap), ``end_of_life`` (collected
    products), or ``all`` (both, where a source does not split them).
    """

    region: str
    element: Element
    year: int
    t: Real = Field(ge=0)
    kind: Literal["swarf", "end_of_life", "all"] = "all"


class Provenance(BaseModel):
    """Name and version of a dataset, recorded with every run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str
    base_year: int
