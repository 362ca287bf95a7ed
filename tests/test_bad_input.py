"""Hostile inputs (issue #15, "Bad input") end in a named rareflow error, never a traceback.

Each test reproduces one reported fault: impossible dates, NaN / infinities / absurd magnitudes,
negative or malformed tariffs, scenario overrides that cannot act, and broken override files.
"""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

import rareflow.model as model_package
import rareflow.scenario as scenario_package
from override_files import GOOD_FACILITY as FACILITY
from override_files import write
from rareflow.data.loader import load_world
from rareflow.model.errors import DataError
from rareflow.model.facilities import Facility
from rareflow.model.world import World
from rareflow.model.yamlio import MAX_BYTES
from rareflow.scenario import load_scenario
from rareflow.scenario.distributions import Normal
from rareflow.scenario.instruments import PriceFloor, Tariff
from rareflow.web.levers import Levers

SCENARIO = """\
name: bad
description: a scenario with one bad value
policies:
  - id: floor
    type: price_floor
    element: NdPr
    floor_usd_per_kg: 110
    producers: [mp_mountain_pass_separation]
    payer: USA
    start: 2026
    years: 10
"""


def data_error(folder: Path) -> DataError:
    with pytest.raises(DataError) as caught:
        load_world(folder)
    return caught.value


def scenario_error(path: Path, world: World | None = None) -> DataError:
    with pytest.raises(DataError) as caught:
        load_scenario(path, world)
    return caught.value


@pytest.fixture(scope="module")
def world() -> World:
    return load_world()


# --- impossible dates ---------------------------------------------------------------------------
@pytest.mark.parametrize("date", ["2025-02-30", "0000-01-01", "2025-13-01"])
def test_impossible_date_in_a_scenario_names_file_line_and_field(
    tmp_path: Path, date: str
) -> None:
    path = write(tmp_path, "s.yaml", SCENARIO.replace("start: 2026", f"start: {date}"))
    error = scenario_error(path)
    assert error.file == str(path.resolve())
    assert error.line == 10
    assert error.field is not None and error.field.endswith("start")
    assert date in error.message


@pytest.mark.parametrize("date", ["2025-02-30", "0000-01-01"])
def test_impossible_date_in_a_data_override_names_the_override(tmp_path: Path, date: str) -> None:
    path = write(tmp_path, "facilities.yaml", FACILITY.replace("start_year: 2027",
                                                               f"start_year: {date}"))
    error = data_error(tmp_path)
    assert error.file == str(path)
    assert error.line == 7
    assert date in error.message


def test_impossible_date_as_a_mapping_key(tmp_path: Path) -> None:
    path = write(tmp_path, "facilities.yaml", FACILITY + "  capacity_t: {2025-02-30: 5}\n")
    error = data_error(tmp_path)
    assert error.file == str(path)
    assert error.line == 12


# --- NaN, infinities and absurd magnitudes ------------------------------------------------------
BAD_NUMBERS = [".nan", ".inf", "-.inf", "1e300", "-1e300", "1e400"]


@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_bad_number_in_a_data_record(tmp_path: Path, number: str) -> None:
    path = write(tmp_path, "facilities.yaml",
                 FACILITY.replace("unit_cost_usd_per_kg: 30", f"unit_cost_usd_per_kg: {number}"))
    error = data_error(tmp_path)
    assert (error.file, error.line, error.field) == (str(path), 10, "unit_cost_usd_per_kg")


@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_bad_number_in_a_capacity_anchor(tmp_path: Path, number: str) -> None:
    path = write(tmp_path, "facilities.yaml", FACILITY + f"  capacity_t: {{2027: {number}}}\n")
    error = data_error(tmp_path)
    assert error.file == str(path)
    assert error.field is not None and error.field.startswith("capacity_t")


@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_bad_number_in_a_tariff_table(tmp_path: Path, number: str) -> None:
    path = write(tmp_path, "trade.yaml", f'tariffs_usd_per_kg: {{"CHN>USA:magnet": {number}}}\n')
    error = data_error(tmp_path)
    assert error.file == str(path)
    assert error.field is not None and error.field.startswith("tariffs_usd_per_kg")


@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_bad_number_in_a_scenario_instrument(tmp_path: Path, number: str) -> None:
    path = write(tmp_path, "s.yaml", SCENARIO.replace("110", number))
    error = scenario_error(path)
    assert (error.line, error.field) == (7, "policies[0].floor_usd_per_kg")


@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_bad_number_in_a_distribution(tmp_path: Path, number: str) -> None:
    text = SCENARIO + (
        "uncertainty:\n  recycling:\n"
        f"    recovery_yield: {{dist: uniform, low: 0.8, high: {number}}}\n"
    )
    error = scenario_error(write(tmp_path, "s.yaml", text))
    assert error.line == 14
    assert error.field is not None and "recovery_yield" in error.field


@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_bad_number_in_an_override(tmp_path: Path, number: str) -> None:
    text = SCENARIO + f"overrides:\n  demand_growth:\n    ev: {{2030: {number}}}\n"
    error = scenario_error(write(tmp_path, "s.yaml", text))
    assert error.line == 14


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e300, -1e300])
def test_bad_number_in_a_tariff_instrument_and_a_lever(value: float) -> None:
    with pytest.raises(ValidationError):
        Tariff(id="t", importer="USA", exporter="CHN", product="magnet", usd_per_kg=value,
               start=2026)
    with pytest.raises(ValidationError):
        Normal.model_validate({"dist": "normal", "mean": value, "sd": 1})
    with pytest.raises(ValidationError):
        Levers(offtake_share=0.5, price_floor_usd_per_kg=None, recycling_share=value)


def test_the_magnitude_bound_admits_every_bundled_number(world: World) -> None:
    from rareflow.model.numbers import MAX_MAGNITUDE

    assert max(f.nameplate_t for f in world.facilities) < MAX_MAGNITUDE
    assert PriceFloor(id="f", floor_usd_per_kg=1e6, producers=("mp",), payer="USA",
                      start=2026, years=1).floor_usd_per_kg == 1e6


def _bare_floats(annotation: object) -> bool:
    """Whether ``annotation`` holds a plain ``float`` outside the :data:`Real` type."""
    if annotation is float:
        return True
    if typing.get_origin(annotation) is typing.Annotated:
        return False
    return any(_bare_floats(arg) for arg in typing.get_args(annotation))


def _schemas() -> list[type[BaseModel]]:
    import rareflow.model.market
    import rareflow.scenario.distributions
    import rareflow.scenario.instruments
    import rareflow.scenario.overrides
    import rareflow.web.levers

    modules = [model_package, scenario_package, rareflow.model.market,
               rareflow.scenario.distributions, rareflow.scenario.instruments,
               rareflow.scenario.overrides, rareflow.web.levers]
    found = {value for module in modules for value in vars(module).values()
             if isinstance(value, type) and issubclass(value, BaseModel)}
    return sorted(found, key=lambda cls: cls.__qualname__)


def test_every_schema_number_is_a_finite_bounded_real() -> None:
    from rareflow.model.numbers import Real

    offenders = [f"{cls.__qualname__}.{name}" for cls in _schemas()
                 for name, info in cls.model_fields.items()
                 if _bare_floats(info.rebuild_annotation())]
    assert offenders == []
    assert Facility.model_fields["nameplate_t"].annotation is not None
    assert Real is not float


# --- tariffs ------------------------------------------------------------------------------------
def test_negative_tariff_in_data_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "trade.yaml", 'tariffs_usd_per_kg: {"CHN>USA:magnet": -3}\n')
    error = data_error(tmp_path)
    assert (error.file, error.line) == (str(path), 1)
    assert "negative" in error.message


@pytest.mark.parametrize("key", ["CHN-USA:magnet", "CHN>USA", "CHN>USA:ore", "chn>usa:magnet",
                                 "CHN>CHN:magnet", "CHN>XYZ:magnet"])
def test_malformed_tariff_key_in_data_is_refused(tmp_path: Path, key: str) -> None:
    path = write(tmp_path, "trade.yaml", f'tariffs_usd_per_kg: {{"{key}": 3}}\n')
    error = data_error(tmp_path)
    assert (error.file, error.line) == (str(path), 1)
    assert key in error.message


def test_malformed_tariff_start_year_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "trade.yaml", 'tariffs_from_year: {"CHN:USA>metal": 2026}\n')
    error = data_error(tmp_path)
    assert (error.file, error.line) == (str(path), 1)


# --- overrides that cannot act ------------------------------------------------------------------
def _override(tmp_path: Path, facility: str, fields: str) -> Path:
    text = SCENARIO + f"overrides:\n  facilities:\n    {facility}: {{{fields}}}\n"
    return write(tmp_path, "s.yaml", text)


def test_nameplate_on_an_anchored_facility_is_refused(tmp_path: Path, world: World) -> None:
    path = _override(tmp_path, "cnre_magnets", "nameplate_t: 50000")
    error = scenario_error(path, world)
    assert error.file == str(path.resolve())
    assert error.line == 14
    assert error.record == "cnre_magnets"
    assert "capacity_t" in error.message


def test_nameplate_acts_where_the_anchors_start_later(tmp_path: Path, world: World) -> None:
    path = _override(tmp_path, "cnre_magnets", "nameplate_t: 50000, delay_years: 3")
    assert load_scenario(path, world).overrides.facilities["cnre_magnets"].nameplate_t == 50000


def test_start_year_after_the_end_year_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write(data, "facilities.yaml", FACILITY + "  end_year: 2035\n")
    path = _override(tmp_path, "test_magnets", "start_year: 2036")
    error = scenario_error(path, load_world(data))
    assert error.record == "test_magnets" and "end_year" in error.message


def test_override_of_a_closed_facility_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write(data, "facilities.yaml", FACILITY.replace("status: announced", "status: closed"))
    path = _override(tmp_path, "test_magnets", "capacity_factor: 2")
    error = scenario_error(path, load_world(data))
    assert (error.line, error.record) == (14, "test_magnets") and "closed" in error.message
    assert load_scenario(_override(tmp_path, "test_magnets", "cancelled: true"), load_world(data))


def test_cancelled_with_other_changes_is_refused(tmp_path: Path) -> None:
    path = _override(tmp_path, "mp_10x_magnets", "cancelled: true, capacity_factor: 2")
    error = scenario_error(path)
    assert error.line == 14 and "cancelled" in error.message


def test_delay_for_closed_facilities_is_refused(tmp_path: Path) -> None:
    text = SCENARIO + "overrides:\n  delay_years_by_status:\n    closed: 3\n"
    error = scenario_error(write(tmp_path, "s.yaml", text))
    assert error.line == 14 and "closed" in error.message


# --- data override files ------------------------------------------------------------------------
def test_non_utf8_override_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "facilities.yaml", FACILITY.encode("utf-8") + b"  note: \xff\xfe\n")
    error = data_error(tmp_path)
    assert error.file == str(path) and "UTF-8" in error.message


def test_records_null_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "stockpiles.yaml", "replace: true\nrecords: null\n")
    error = data_error(tmp_path)
    assert (error.file, error.line) == (str(path), 2)


def test_yaml_and_yml_of_the_same_file_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "stockpiles.yaml", "[]\n")
    write(tmp_path, "stockpiles.yml", "[]\n")
    error = data_error(tmp_path)
    assert error.file is not None and "stockpiles.y" in error.file
    assert "stockpiles.yaml" in error.message and "stockpiles.yml" in error.message


def test_oversized_override_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "demand.yaml", "# pad\n" * (MAX_BYTES // 6 + 1))
    error = data_error(tmp_path)
    assert error.file == str(path) and "larger" in error.message


def test_record_that_is_not_a_mapping_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "facilities.yaml", FACILITY + "- just a string\n")
    error = data_error(tmp_path)
    assert (error.file, error.line) == (str(path), 12)


def test_world_level_error_in_an_override_points_at_it(tmp_path: Path) -> None:
    path = write(tmp_path, "trade.yaml", 'tariffs_usd_per_kg: {"CHN>XYZ:magnet": 3}\n')
    error = data_error(tmp_path)
    assert error.file == str(path)


# --- found by the fuzz test (tests/test_input_fuzz.py) ------------------------------------------
@pytest.mark.parametrize("text", ["name: a\x00b\n", "name: ok\ndescription: \x07\n"])
def test_control_character_in_a_scenario_names_its_line(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "s.yaml", text)
    error = scenario_error(path)
    assert error.line == text.count("\n", 0, max(text.find("\x00"), text.find("\x07"))) + 1


def test_lone_surrogate_escape_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", SCENARIO + '"\\ud800": 1\n')
    error = scenario_error(path)
    assert error.line == 12 and "surrogate" in error.message


def test_record_key_that_is_a_list_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "demand.yaml",
                 "- {region: [USA], sector: ev, year: 2024, tonnes: 1, assumption: x}\n")
    error = data_error(tmp_path)
    assert (error.file, error.line, error.field) == (str(path), 1, "region")
