"""The loader turns every bad record into a DataError naming file, line, record and field."""

from __future__ import annotations

from pathlib import Path

import pytest

import rareflow
from override_files import GOOD_FACILITY, write
from rareflow.data.loader import load_world
from rareflow.model.errors import DataError


def load_error(directory: Path) -> DataError:
    with pytest.raises(DataError) as caught:
        load_world(directory)
    return caught.value


def test_load_world_is_reexported() -> None:
    assert rareflow.load_world is load_world


def test_negative_capacity_names_file_line_record_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "facilities.yaml", GOOD_FACILITY.replace("nameplate_t: 1000",
                                                                   "nameplate_t: -5"))
    error = load_error(tmp_path)
    assert error.file == str(path)
    assert error.line == 8
    assert error.record == "test_magnets"
    assert error.field == "nameplate_t"
    assert f"{path}:8" in str(error)
    assert "greater than or equal to 0" in str(error)


def test_negative_capacity_anchor_names_the_field(tmp_path: Path) -> None:
    write(tmp_path, "facilities.yaml",
          GOOD_FACILITY + "  capacity_t: {2027: 100, 2028: -1}\n")
    error = load_error(tmp_path)
    assert error.record == "test_magnets"
    assert error.field == "capacity_t"
    assert error.line == 12
    assert "non-negative" in error.message


def test_shares_must_sum_to_one(tmp_path: Path) -> None:
    path = write(tmp_path, "deposits.yaml", """\
        - id: bad_deposit
          name: Bad
          country: USA
          deposit_class: bastnasite
          shares: {NdPr: 0.5, La: 0.3}
          assumption: test
        """)
    error = load_error(tmp_path)
    assert error.file == str(path)
    assert error.line == 5
    assert error.record == "bad_deposit"
    assert error.field == "shares"
    assert "sum to 1" in error.message


def test_misspelt_element_suggests_the_closest(tmp_path: Path) -> None:
    write(tmp_path, "deposits.yaml", """\
        - id: bad_deposit
          name: Bad
          country: USA
          deposit_class: bastnasite
          shares: {Nd: 0.5, La: 0.5}
          assumption: test
        """)
    error = load_error(tmp_path)
    assert error.suggestion == "NdPr"
    assert "did you mean 'NdPr'" in str(error)


def test_unknown_country_suggests_the_closest_region(tmp_path: Path) -> None:
    path = write(tmp_path, "facilities.yaml", GOOD_FACILITY.replace("country: USA",
                                                                   "country: UAS"))
    error = load_error(tmp_path)
    assert str(error) == (
        f"{path}:4, record 'test_magnets', field 'country': unknown region 'UAS' "
        "(did you mean 'USA'?)"
    )


def test_unknown_reference_in_a_bundled_record_overridden_in_place(tmp_path: Path) -> None:
    write(tmp_path, "demand.yaml", """\
        - {region: USA, sector: ev, year: 2024, tonnes: 10, assumption: x}
        - {region: USA, sector: evv, year: 2024, tonnes: 10, assumption: x}
        """)
    error = load_error(tmp_path)
    assert error.line == 2
    assert error.suggestion == "ev"
    assert "unknown sector 'evv'" in error.message


def test_duplicate_ids_in_one_file(tmp_path: Path) -> None:
    path = write(tmp_path, "facilities.yaml", GOOD_FACILITY + GOOD_FACILITY)
    error = load_error(tmp_path)
    assert error.file == str(path)
    assert error.line == 12
    assert error.record == "test_magnets"
    assert "duplicate record (first at line 1)" in error.message


def test_repeated_key_in_a_mapping(tmp_path: Path) -> None:
    write(tmp_path, "facilities.yaml", GOOD_FACILITY + "  status: operating\n")
    error = load_error(tmp_path)
    assert error.line == 12
    assert "appears twice" in error.message


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, "regions.yaml", "- {id: USA, name: [unclosed\n- x\n")
    error = load_error(tmp_path)
    assert error.file == str(path)
    assert error.line is not None
    assert "invalid YAML" in error.message


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    write(tmp_path, "regions.yaml", "- !!python/object/apply:os.system ['echo hacked']\n")
    error = load_error(tmp_path)
    assert "invalid YAML" in error.message


def test_alias_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ["- &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"- &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    write(tmp_path, "regions.yaml", "\n".join(lines) + "\n")
    error = load_error(tmp_path)
    assert "more than" in error.message


def test_unknown_file_name_suggests_the_closest(tmp_path: Path) -> None:
    write(tmp_path, "facilites.yaml", GOOD_FACILITY)
    error = load_error(tmp_path)
    assert error.suggestion == "facilities.yaml"


def test_missing_directory(tmp_path: Path) -> None:
    error = load_error(tmp_path / "absent")
    assert "not found" in error.message


def test_record_without_source_or_assumption(tmp_path: Path) -> None:
    write(tmp_path, "facilities.yaml", GOOD_FACILITY.replace("  assumption: test record\n", ""))
    error = load_error(tmp_path)
    assert error.record == "test_magnets"
    assert "source" in error.message


def test_override_replaces_by_id_and_appends(tmp_path: Path) -> None:
    bundled = load_world()
    write(tmp_path, "facilities.yaml", GOOD_FACILITY + """\
        - id: mp_10x_magnets
          name: MP 10X magnet plant
          operator: MP Materials
          country: USA
          stage: magnet
          status: under_construction
          start_year: 2030
          nameplate_t: 5000
          magnet_grades: [ndfeb_standard]
          unit_cost_usd_per_kg: 25
          assumption: delayed and smaller
        """.replace("        ", ""))
    world = load_world(tmp_path)
    assert len(world.facilities) == len(bundled.facilities) + 1
    assert world.facility("mp_10x_magnets").start_year == 2030
    assert world.facility("mp_10x_magnets").capacity_in(2028) == 0
    ids = [f.id for f in world.facilities]
    assert ids.index("mp_10x_magnets") == [f.id for f in bundled.facilities].index(
        "mp_10x_magnets")
    assert world.provenance.version.startswith(bundled.provenance.version + "+override.")


def test_keyless_rows_are_replaced_by_their_key_fields(tmp_path: Path) -> None:
    write(tmp_path, "demand.yaml",
          "- {region: USA, sector: ev, year: 2024, tonnes: 1, assumption: x}\n")
    world = load_world(tmp_path)
    rows = [r for r in world.demand if r.region == "USA" and r.sector == "ev"]
    assert [r.tonnes for r in rows] == [1]


def test_replace_form_replaces_the_whole_file(tmp_path: Path) -> None:
    write(tmp_path, "stockpiles.yaml", """\
        replace: true
        records:
          - {region: USA, element: Dy, initial_t: 5, capacity_t: 10, assumption: x}
        """)
    world = load_world(tmp_path)
    assert [(s.region, s.element, s.initial_t) for s in world.stockpiles] == [("USA", "Dy", 5)]


def test_single_mapping_files_merge_top_level_keys(tmp_path: Path) -> None:
    write(tmp_path, "world.yaml", "version: mine-1\n")
    write(tmp_path, "trade.yaml", "tariffs_usd_per_kg: {}\n")
    world = load_world(tmp_path)
    assert world.provenance.version == "mine-1"
    assert world.provenance.base_year == 2024
    assert world.trade.tariffs_usd_per_kg == {}
    assert world.trade.transport_usd_per_kg["magnet"] > 0


def test_error_in_merged_single_file_points_at_the_override(tmp_path: Path) -> None:
    path = write(tmp_path, "trade.yaml", "transport_usd_per_kg: {concentrate: 0.1, ore: 1}\n")
    error = load_error(tmp_path)
    assert error.file == str(path)
    assert error.line == 1
    assert error.field is not None and error.field.startswith("transport_usd_per_kg")


def test_second_china_is_rejected_with_its_file(tmp_path: Path) -> None:
    write(tmp_path, "regions.yaml",
          "- {id: HKG, name: Hong Kong, is_china: true, source: ISO 3166-1}\n")
    error = load_error(tmp_path)
    assert "is_china" in error.message
    assert error.file is not None
