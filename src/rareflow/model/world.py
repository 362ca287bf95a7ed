"""The world: every region, deposit, facility and sector, checked for consistent references."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

from rareflow.model.deposits import Deposit
from rareflow.model.elements import DEPOSIT_CLASSES, ELEMENTS, MAGNET_ELEMENTS, Element
from rareflow.model.errors import DataError, closest_name, unknown_name_error
from rareflow.model.facilities import Facility
from rareflow.model.market import (
    MineProduction,
    Provenance,
    ReferencePrice,
    ScrapSupply,
    StageShare,
    Stockpile,
    TradeCosts,
    tariff_regions,
)
from rareflow.model.regions import Region
from rareflow.model.sectors import MagnetGrade, Sector, SectorDemand

T = TypeVar("T")

#: The world loaded when none is named: today's (its files lie in ``rareflow/data/``).
DEFAULT_WORLD = "2024"


class World(BaseModel):
    """A complete, validated world dataset: the input of every solve.

    Construction checks that ids are unique and that every reference (a facility's country or
    deposit, a sector's magnet grades, a demand's region) names something that exists, raising
    :class:`~rareflow.model.errors.DataError` with the closest valid name.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    provenance: Provenance
    regions: tuple[Region, ...]
    deposits: tuple[Deposit, ...]
    facilities: tuple[Facility, ...]
    magnet_grades: tuple[MagnetGrade, ...]
    sectors: tuple[Sector, ...]
    demand: tuple[SectorDemand, ...]
    trade: TradeCosts
    reference_prices: tuple[ReferencePrice, ...] = ()
    mine_production: tuple[MineProduction, ...] = ()
    stage_shares: tuple[StageShare, ...] = ()
    stockpiles: tuple[Stockpile, ...] = ()
    scrap: tuple[ScrapSupply, ...] = ()
    #: The elements this world tracks, in the order of the results' ``element`` axis; every
    #: element its data names must be one of them. The bundled worlds track the default
    #: eight (``other_heavy`` grouping Eu, Gd, Ho, Er, Tm, Yb, Lu); a generated world may track
    #: the rare earths one by one (``rareflow.model.elements.INDIVIDUAL_ELEMENTS``).
    elements: tuple[Element, ...] = ELEMENTS
    #: Name of the bundled world this data is (``"2024"``, ``"2010"``; see
    #: ``rareflow.data.loader.available_worlds``); overrides keep the name of the world they
    #: were laid over.
    vintage: str = DEFAULT_WORLD

    @model_validator(mode="after")
    def _check_references(self) -> World:
        _require_unique("region", (region.id for region in self.regions))
        _require_unique("deposit", (deposit.id for deposit in self.deposits))
        _require_unique("facility", (facility.id for facility in self.facilities))
        _require_unique("magnet grade", (grade.id for grade in self.magnet_grades))
        _require_unique("sector", (sector.id for sector in self.sectors))
        chinas = [region.id for region in self.regions if region.is_china]
        if len(chinas) != 1:
            raise DataError(f"exactly one region must have is_china: true, found {chinas}")

        regions = self.region_ids
        deposits = {deposit.id: deposit for deposit in self.deposits}
        grades = {grade.id for grade in self.magnet_grades}
        sectors = {sector.id: sector for sector in self.sectors}
        feed_names = set(deposits) | set(DEPOSIT_CLASSES) | {"*", "scrap"}

        for deposit in self.deposits:
            _check_ref("region", deposit.country, regions, deposit.id, "country")
        for facility in self.facilities:
            _check_ref("region", facility.country, regions, facility.id, "country")
            if facility.deposit is not None:
                _check_ref("deposit", facility.deposit, deposits, facility.id, "deposit")
            for feed in facility.feeds:
                _check_ref("feed", feed, feed_names, facility.id, "feeds")
            for grade in facility.magnet_grades:
                _check_ref("magnet grade", grade, grades, facility.id, "magnet_grades")
        for sector in self.sectors:
            for grade in sector.magnet_mix:
                _check_ref("magnet grade", grade, grades, sector.id, "magnet_mix")
        for row in self.demand:
            label = f"{row.region}/{row.sector}"
            _check_ref("region", row.region, regions, label, "region")
            _check_ref("sector", row.sector, sectors, label, "sector")
            if (sectors[row.sector].kind == "oxide") != (row.element is not None):
                raise DataError(
                    "oxide sectors need an 'element' per demand row; magnet sectors take none",
                    record=label,
                    field="element",
                )
            if row.element is not None and self.oxide_reference_price(
                    row.element, row.region) is None:
                raise DataError(
                    f"no {self.provenance.base_year} reference price for {row.element} oxide: "
                    "its demand curve has no anchor (add it to prices.yaml)",
                    record=label, field="element")
        for key in self.trade.tariffs_usd_per_kg:
            for region in tariff_regions(key):
                if region not in regions:
                    raise DataError(
                        f"tariff '{key}' names unknown region '{region}'",
                        record="trade",
                        field="tariffs_usd_per_kg",
                        suggestion=closest_name(region, regions),
                    )
        for hub in self.trade.reexport_hubs:
            _check_ref("region", hub, regions, "trade", "reexport_hubs")
        for item in self.mine_production:
            _check_ref("region", item.country, regions, item.country, "country")
        for share in self.stage_shares:
            _check_ref("region", share.country, regions, share.country, "country")
        for stock in self.stockpiles:
            _check_ref("region", stock.region, regions, stock.region, "region")
        for scrap in self.scrap:
            _check_ref("region", scrap.region, regions, scrap.region, "region")
        self._check_elements()
        return self

    def _check_elements(self) -> None:
        """Every element the data names is one of :attr:`elements` (no element twice)."""
        _require_unique("element", self.elements)
        tracked = set(self.elements)
        named: list[tuple[Iterable[str], str, str]] = [
            *((deposit.shares, deposit.id, "shares") for deposit in self.deposits),
            *((grade.content_kg_reo_per_t, grade.id, "content_kg_reo_per_t")
              for grade in self.magnet_grades),
            *((facility.elements or (), facility.id, "elements")
              for facility in self.facilities),
            *(((row.element,) if row.element is not None else (), f"{row.region}/{row.sector}",
               "element") for row in self.demand),
            *(((price.element,), f"{price.element}/{price.market}", "element")
              for price in self.reference_prices),
            *(((stock.element,), stock.region, "element") for stock in self.stockpiles),
            *(((scrap.element,), scrap.region, "element") for scrap in self.scrap),
        ]
        for elements, record, field in named:
            for element in elements:
                if element not in tracked:
                    raise unknown_name_error("element", element, tracked, record=record,
                                             field=field)

    @property
    def region_ids(self) -> list[str]:
        """Region ids in data order."""
        return [region.id for region in self.regions]

    @property
    def magnet_elements(self) -> tuple[Element, ...]:
        """Tracked elements that reach magnets through the metal stage, in :attr:`elements` order.

        The NdFeB and SmCo elements and any other element a magnet grade's recipe uses.
        """
        in_recipes = {e for grade in self.magnet_grades for e in grade.content_kg_reo_per_t}
        return tuple(e for e in self.elements if e in MAGNET_ELEMENTS or e in in_recipes)

    @property
    def china(self) -> str:
        """Id of the region flagged ``is_china``."""
        return next(region.id for region in self.regions if region.is_china)

    def oxide_reference_price(self, element: str, region: str) -> float | None:
        """Base-year reference price (USD/kg) of ``element`` oxide in ``region``'s market.

        China's domestic price for the China region, the outside-China (FOB) price elsewhere;
        either market's price where only one is known; None where neither is.
        """
        markets: dict[str, float] = {
            str(price.market): price.usd_per_kg for price in self.reference_prices
            if price.element == element and price.year == self.provenance.base_year}
        first, second = (("china", "outside_china") if region == self.china
                         else ("outside_china", "china"))
        value = markets.get(first, markets.get(second))
        return None if value is None else float(value)

    def region(self, region_id: str) -> Region:
        """The region with id ``region_id``."""
        return _lookup("region", region_id, {region.id: region for region in self.regions})

    def facility(self, facility_id: str) -> Facility:
        """The facility with id ``facility_id``."""
        return _lookup("facility", facility_id, {f.id: f for f in self.facilities})

    def deposit(self, deposit_id: str) -> Deposit:
        """The deposit with id ``deposit_id``."""
        return _lookup("deposit", deposit_id, {d.id: d for d in self.deposits})

    def sector(self, sector_id: str) -> Sector:
        """The sector with id ``sector_id``."""
        return _lookup("sector", sector_id, {s.id: s for s in self.sectors})

    def magnet_grade(self, grade_id: str) -> MagnetGrade:
        """The magnet grade with id ``grade_id``."""
        return _lookup("magnet grade", grade_id, {g.id: g for g in self.magnet_grades})

    def group_members(self, group: str) -> list[str]:
        """Ids of regions in ``group`` (a region id counts as a group of one)."""
        if group in self.region_ids:
            return [group]
        members = [region.id for region in self.regions if group in region.groups]
        if not members:
            known = {name for region in self.regions for name in region.groups}
            raise unknown_name_error("region or group", group, known | set(self.region_ids))
        return members


def _require_unique(kind: str, ids: Iterable[str]) -> None:
    repeated = [name for name, count in Counter(ids).items() if count > 1]
    if repeated:
        names = ", ".join(sorted(repeated))
        raise DataError(f"duplicate {kind} id(s): {names}", record=repeated[0])


def _check_ref(kind: str, name: str, valid: Iterable[str], record: str, field: str) -> None:
    options = set(valid)
    if name not in options:
        raise unknown_name_error(kind, name, options, record=record, field=field)


def _lookup(kind: str, name: str, table: dict[str, T]) -> T:
    try:
        return table[name]
    except KeyError:
        raise unknown_name_error(kind, name, table) from None
