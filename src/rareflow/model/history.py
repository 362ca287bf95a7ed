"""The historical record a backtest is compared with: series, how the model computes each, points.

A *series* names one observed quantity (the NdPr oxide price outside China, China's exports)
and says how to read the model's value of it from a result dataset: a results ``variable``, a
``select``ion of its dimensions, and an ``aggregation``. A *point* is one observed value of a
series in one year, cited like every bundled number (``source`` and/or ``assumption``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rareflow.model.errors import DataError, closest_name
from rareflow.model.numbers import Real
from rareflow.model.sourced import Sourced

#: Region-like dimensions, whose selected values may also be ``china``, ``outside_china`` or a
#: region group.
REGION_DIMS = ("region", "exporter", "importer")
#: Pseudo-regions a selection may name: the world's China region, and every other region.
CHINA, OUTSIDE_CHINA = "china", "outside_china"
#: The unit each results variable a series may read is in (docs/results.md).
VARIABLE_UNITS: dict[str, str] = {
    "price": "USD/kg",
    "production": "t REO",
    "trade": "t REO",
    "consumption": "t REO",
    "recycled": "t REO",
    "stockpile_level": "t REO",
    "inventory_level": "t REO",
}

Selected = str | int | tuple[str | int, ...]


class Series(BaseModel):
    """One observed quantity and how to compute the model's value of it.

    ``aggregation: sum`` sums ``variable`` over the selected values and every other dimension
    but ``year``. ``aggregation: market_price`` is the price buyers pay in one market
    (:func:`rareflow.metrics.prices`): ``select`` gives ``stage``, one ``element`` and
    ``region`` = ``china``, ``outside_china`` or one region id.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    title: str = Field(min_length=1)
    unit: str
    variable: str
    select: dict[str, Selected] = Field(default_factory=dict)
    aggregation: Literal["sum", "market_price"] = "sum"
    note: str | None = None

    @field_validator("select")
    @classmethod
    def _plain_values(cls, select: dict[str, Selected]) -> dict[str, Selected]:
        for dim, value in select.items():
            if isinstance(value, tuple) and not value:
                raise ValueError(f"select.{dim}: give at least one value")
        return select

    @model_validator(mode="after")
    def _consistent(self) -> Series:
        unit = VARIABLE_UNITS.get(self.variable)
        if unit is None:
            raise DataError(f"variable '{self.variable}' cannot be compared with a record",
                            record=self.id, field="variable",
                            suggestion=closest_name(self.variable, VARIABLE_UNITS))
        if self.unit != unit:
            raise DataError(f"unit '{self.unit}' is not the model's unit of {self.variable} "
                            f"('{unit}')", record=self.id, field="unit")
        if self.aggregation == "market_price":
            if self.variable != "price":
                raise DataError("aggregation market_price needs variable: price",
                                record=self.id, field="aggregation")
            for dim in ("stage", "element", "region"):
                if not isinstance(self.select.get(dim), str):
                    raise DataError(f"a market price needs select.{dim}: one value",
                                    record=self.id, field=f"select.{dim}")
            if set(self.select) - {"stage", "element", "region"}:
                raise DataError("a market price selects only stage, element and region",
                                record=self.id, field="select")
        elif self.variable == "price":
            raise DataError("prices are not summed: use aggregation: market_price",
                            record=self.id, field="aggregation")
        return self

    def values(self, dim: str) -> tuple[str | int, ...]:
        """The values ``select`` gives for ``dim`` (empty: all of them)."""
        value = self.select.get(dim)
        if value is None:
            return ()
        return value if isinstance(value, tuple) else (value,)


class RecordPoint(Sourced):
    """One observed value of a series in one year."""

    series: str
    year: int = Field(ge=1950, le=2150)
    value: Real = Field(ge=0)
    unit: str
    variable: str | None = None
    element: str | None = None
    stage: str | None = None
    market: str | None = None
    note: str | None = None


class HistoricalRecord(BaseModel):
    """The bundled record: its series and their points, checked against each other."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    series: tuple[Series, ...]
    points: tuple[RecordPoint, ...] = ()

    @model_validator(mode="after")
    def _points_match_series(self) -> HistoricalRecord:
        by_id: dict[str, Series] = {}
        for item in self.series:
            if item.id in by_id:
                raise DataError(f"duplicate series id '{item.id}'", record=item.id, field="id")
            by_id[item.id] = item
        seen: set[tuple[str, int]] = set()
        for point in self.points:
            label = f"{point.series}/{point.year}"
            series = by_id.get(point.series)
            if series is None:
                raise DataError(f"unknown series '{point.series}'", record=label,
                                field="series", suggestion=closest_name(point.series, by_id))
            if (point.series, point.year) in seen:
                raise DataError("two points for one series and year", record=label,
                                field="year")
            seen.add((point.series, point.year))
            if point.unit != series.unit:
                raise DataError(f"unit '{point.unit}' differs from the series' '{series.unit}'",
                                record=label, field="unit")
            _agree(point, series, label)
        return self

    def points_of(self, series_id: str) -> dict[int, RecordPoint]:
        """The points of one series by year, in year order."""
        return {point.year: point for point in sorted(self.points, key=lambda p: p.year)
                if point.series == series_id}


def _agree(point: RecordPoint, series: Series, label: str) -> None:
    """Optional descriptive fields of a point must say what its series selects."""
    market = series.select.get("region", series.select.get("exporter"))
    expected = {"variable": series.variable, "element": series.select.get("element"),
                "stage": series.select.get("stage"), "market": market}
    for name, want in expected.items():
        given = getattr(point, name)
        if given is not None and want is not None and str(given) != str(want):
            raise DataError(f"{name} '{given}' differs from series {series.id}'s '{want}'",
                            record=label, field=name)
