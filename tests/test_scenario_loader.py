"""Loading scenario files: extends, merging, and errors that name file, line, field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from rareflow.model import DataError
from rareflow.scenario import ExportControl, load_scenario


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def load_error(folder: Path, text: str) -> DataError:
    path = write(folder, "bad.yaml", text)
    with pytest.raises(DataError) as info:
        load_scenario(path)
    assert info.value.file == str(path.resolve())
    return info.value


CONTROL = """\
  - id: {id}
    type: export_control
    elements: [Dy]
    start: 2026
    mode: ban
"""

PARENT = (
    "name: parent\ndescription: parent scenario\nyears: {start: 2024, end: 2040}\npolicies:\n"
    + CONTROL.format(id="p1")
    + CONTROL.format(id="p2")
    + """\
overrides:
  facilities:
    mp_10x_magnets: {delay_years: 2, capacity_factor: 0.5}
uncertainty:
  start_delay_years:
    by_status:
      announced: {dist: triangular, low: 0, mode: 2, high: 6}
      under_construction: {dist: uniform, low: 0, high: 2}
"""
)


# --- extends ----------------------------------------------------------------------------------
def test_extends_merges_child_over_parent(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    child = write(
        tmp_path,
        "child.yaml",
        "name: child\ndescription: child scenario\nextends: parent\n"
        "years: {start: 2025, end: 2030}\npolicies:\n"
        + CONTROL.format(id="c1")
        + """\
  - id: p1
    type: export_control
    elements: [Tb]
    start: 2027
    mode: ban
overrides:
  facilities:
    mp_10x_magnets: {delay_years: 0}
uncertainty:
  start_delay_years:
    by_status:
      announced: {dist: uniform, low: 0, high: 1}
      under_construction: null
""",
    )
    scenario = load_scenario(child)
    assert scenario.name == "child"
    assert scenario.extends is None
    assert scenario.lineage == ("child", "parent")
    assert [p.id for p in scenario.policies] == ["p1", "p2", "c1"]
    replaced = scenario.policy("p1")
    assert isinstance(replaced, ExportControl) and replaced.elements == ("Tb",)
    assert scenario.years is not None and scenario.years.start == 2025
    override = scenario.overrides.facilities["mp_10x_magnets"]
    assert override.delay_years == 0 and override.capacity_factor == 0.5
    by_status = scenario.uncertainty.start_delay_years.by_status
    assert list(by_status) == ["announced"]
    assert by_status["announced"].dist == "uniform"  # distributions replace, never mix


def test_drop_policies_by_id(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    child = write(
        tmp_path, "child.yaml", "name: c\ndescription: d\nextends: parent\ndrop_policies: [p2]\n"
    )
    assert [p.id for p in load_scenario(child).policies] == ["p1"]


def test_drop_unknown_policy_suggests(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    child = write(
        tmp_path, "child.yaml", "name: c\ndescription: d\nextends: parent\ndrop_policies: [p3]\n"
    )
    with pytest.raises(DataError) as info:
        load_scenario(child)
    assert info.value.line == 4
    assert info.value.field == "drop_policies[0]"
    assert info.value.suggestion in {"p1", "p2"}


def test_extends_relative_path_and_bundled_name(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path, "parent.yaml", PARENT)
    child = write(tmp_path / "sub", "c.yaml", "name: c\ndescription: d\nextends: ../parent.yaml\n")
    assert load_scenario(child).lineage == ("c", "parent")
    bundled = write(tmp_path, "b.yaml", "name: b\ndescription: d\nextends: controls-2025-april\n")
    assert load_scenario(bundled).lineage == ("b", "controls-2025-april", "baseline")


def test_extends_cycle_is_detected(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: a\ndescription: d\nextends: b\n")
    write(tmp_path, "b.yaml", "name: b\ndescription: d\n\nextends: a\n")
    with pytest.raises(DataError, match=r"cycle: a\.yaml -> b\.yaml -> a\.yaml") as info:
        load_scenario(tmp_path / "a.yaml")
    assert info.value.file == str((tmp_path / "b.yaml").resolve())
    assert info.value.line == 4
    assert info.value.field == "extends"


def test_self_extension_is_a_cycle(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "name: a\ndescription: d\nextends: a\n")
    with pytest.raises(DataError, match="cycle"):
        load_scenario(path)


def test_unknown_parent_suggests_bundled_name(tmp_path: Path) -> None:
    error = load_error(tmp_path, "name: a\ndescription: d\nextends: baseline2\n")
    assert error.suggestion == "baseline"
    assert error.line == 3 and error.field == "extends"


# --- several parents ---------------------------------------------------------------------------
OTHER = (
    "name: other\ndescription: other parent\nyears: {start: 2025, end: 2035}\npolicies:\n"
    + CONTROL.format(id="p2").replace("Dy", "Tb")
    + CONTROL.format(id="q1")
    + "overrides:\n  facilities:\n    mp_10x_magnets: {capacity_factor: 0.8}\n"
)


def test_several_parents_merge_in_order(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    write(tmp_path, "other.yaml", OTHER)
    child = write(tmp_path, "child.yaml",
                  "name: c\ndescription: d\nextends: [parent, other]\ndrop_policies: [q1]\n"
                  "policies:\n" + CONTROL.format(id="c1"))
    scenario = load_scenario(child)
    assert [p.id for p in scenario.policies] == ["p1", "p2", "c1"]
    replaced = scenario.policies[1]
    assert isinstance(replaced, ExportControl) and replaced.elements == ("Tb",)
    assert scenario.years is not None and scenario.years.end == 2035  # last parent's years
    own = scenario.overrides.facilities["mp_10x_magnets"]
    assert own.capacity_factor == 0.8 and own.delay_years == 2  # merged key by key
    assert scenario.lineage == ("c", "parent", "other")
    assert scenario.extends is None


def test_several_parents_unknown_name_and_cycle(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    error = load_error(tmp_path, "name: a\ndescription: d\nextends: [parent, baselin]\n")
    assert error.suggestion == "baseline" and error.field == "extends[1]"
    write(tmp_path, "a.yaml", "name: a\ndescription: d\nextends: [parent, b]\n")
    write(tmp_path, "b.yaml", "name: b\ndescription: d\nextends: [a]\n")
    with pytest.raises(DataError, match=r"cycle: a\.yaml -> b\.yaml -> a\.yaml") as info:
        load_scenario(tmp_path / "a.yaml")
    assert info.value.file == str((tmp_path / "b.yaml").resolve())
    assert info.value.field == "extends[0]"


@pytest.mark.parametrize("value", ["[]", "[parent, parent]", "[1]", "{a: b}"])
def test_bad_extends_lists(tmp_path: Path, value: str) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    error = load_error(tmp_path, f"name: a\ndescription: d\nextends: {value}\n")
    assert error.field == "extends"


def test_errors_in_parent_point_at_parent_file(tmp_path: Path) -> None:
    parent = write(tmp_path, "parent.yaml", PARENT.replace("mode: ban", "mode: bann", 1))
    child = write(tmp_path, "child.yaml", "name: c\ndescription: d\nextends: parent\n")
    with pytest.raises(DataError) as info:
        load_scenario(child)
    assert info.value.file == str(parent.resolve())
    assert info.value.line == 9
    assert info.value.suggestion == "ban"


def test_unknown_bundled_name() -> None:
    with pytest.raises(DataError) as info:
        load_scenario("heavy_ban")
    assert info.value.suggestion == "heavy-ban"


def test_drop_policies_needs_extends(tmp_path: Path) -> None:
    error = load_error(tmp_path, "name: a\ndescription: d\ndrop_policies: [x]\n")
    assert error.field == "drop_policies" and error.line == 3


# --- located errors -----------------------------------------------------------------------------
def test_misspelt_top_level_field(tmp_path: Path) -> None:
    error = load_error(tmp_path, "name: a\ndescription: d\npolices: []\n")
    assert (error.line, error.field, error.suggestion) == (3, "polices", "policies")
    assert "unknown field 'polices'" in str(error)
    assert "did you mean 'policies'" in str(error)


def test_misspelt_instrument_type(tmp_path: Path) -> None:
    text = "name: a\ndescription: d\npolicies:\n  - id: x\n    type: export_controll\n"
    error = load_error(tmp_path, text)
    assert (error.line, error.field, error.suggestion) == (5, "policies[0].type", "export_control")
    assert error.record == "x"


def test_misspelt_field_inside_policy(tmp_path: Path) -> None:
    text = "name: a\ndescription: d\npolicies:\n" + CONTROL.format(id="x") + "    destinaton: all\n"
    error = load_error(tmp_path, text)
    assert (error.line, error.field, error.suggestion) == (
        9, "policies[0].destinaton", "destinations"
    )


def test_misspelt_element(tmp_path: Path) -> None:
    text = "name: a\ndescription: d\npolicies:\n" + CONTROL.format(id="x").replace(
        "[Dy]", "[Dy,\n      Tbb]"
    )
    error = load_error(tmp_path, text)
    assert (error.line, error.field, error.suggestion) == (7, "policies[0].elements[1]", "Tb")


def test_misspelt_mode_value(tmp_path: Path) -> None:
    text = "name: a\ndescription: d\npolicies:\n" + CONTROL.format(id="x").replace("ban", "licnce")
    error = load_error(tmp_path, text)
    assert (error.line, error.field, error.suggestion) == (8, "policies[0].mode", "licence")


def test_misspelt_distribution(tmp_path: Path) -> None:
    text = (
        "name: a\ndescription: d\nuncertainty:\n  recycling:\n"
        "    recovery_yield: {dist: uniformm, low: 0.8, high: 0.9}\n"
    )
    error = load_error(tmp_path, text)
    assert error.suggestion == "uniform"
    assert error.line == 5
    assert error.field == "uncertainty.recycling.recovery_yield.dist"


def test_misspelt_nested_field(tmp_path: Path) -> None:
    text = "name: a\ndescription: d\nuncertainty:\n  start_delay_year: {}\n"
    error = load_error(tmp_path, text)
    assert (error.line, error.suggestion) == (4, "start_delay_years")


def test_missing_field_points_at_its_mapping(tmp_path: Path) -> None:
    text = "name: a\ndescription: d\npolicies:\n  - id: x\n    type: export_control\n"
    text += "    mode: ban\n"
    error = load_error(tmp_path, text)
    assert error.field == "policies[0].start"
    assert error.line == 4
    assert "missing required field 'start'" in str(error)


def test_model_rule_violation_is_located(tmp_path: Path) -> None:
    text = "name: a\ndescription: d\npolicies:\n" + CONTROL.format(id="x").replace(
        "mode: ban", "mode: quota"
    )
    error = load_error(tmp_path, text)
    assert error.line == 4 and "quota_t_per_y" in str(error)


def test_duplicate_policy_ids(tmp_path: Path) -> None:
    text = "name: a\ndescription: d\npolicies:\n" + CONTROL.format(id="x") * 2
    error = load_error(tmp_path, text)
    assert error.line == 9 and error.field == "policies[1].id" and "duplicate" in str(error)


def test_policy_timing_must_name_a_policy(tmp_path: Path) -> None:
    text = (
        "name: a\ndescription: d\npolicies:\n" + CONTROL.format(id="ctrl")
        + "uncertainty:\n  policy_timing:\n    ctrll: {applies: {dist: bernoulli, p: 0.5}}\n"
    )
    error = load_error(tmp_path, text)
    assert (error.line, error.suggestion) == (11, "ctrl")


def test_several_problems_are_listed(tmp_path: Path) -> None:
    text = "name: A B\ndescription: d\nyears: {start: 2030, end: 2020}\n"
    error = load_error(tmp_path, text)
    assert error.line == 1
    assert "1 more problem" in str(error) and "line 3" in str(error)


def test_description_is_one_line(tmp_path: Path) -> None:
    error = load_error(tmp_path, 'name: a\ndescription: "two\\nlines"\n')
    assert error.field == "description"


# --- YAML safety ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "!!python/object/apply:os.system ['echo hacked']",
        "!!python/name:os.system",
        "!custom 3",
        "!!set {a, b}",
        "!!binary aGVsbG8=",
    ],
)
def test_unsafe_yaml_tags_are_rejected(tmp_path: Path, value: str) -> None:
    error = load_error(tmp_path, f"name: a\ndescription: d\nnote: {value}\n")
    assert "not allowed" in str(error) and error.line == 3


def test_python_tag_on_mapping_is_rejected(tmp_path: Path) -> None:
    text = "name: a\ndescription: d\nyears: !!python/object:datetime.date {year: 2020}\n"
    assert "not allowed" in str(load_error(tmp_path, text))


def test_duplicate_keys_are_rejected(tmp_path: Path) -> None:
    error = load_error(tmp_path, "name: a\ndescription: d\nname: b\n")
    assert "duplicate key 'name'" in str(error) and error.line == 3


def test_alias_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    error = load_error(tmp_path, "\n".join(lines) + "\n")
    assert "more than" in str(error)


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    error = load_error(tmp_path, "name: a\ndescription: d\npolicies: [\n  - x\n")
    assert error.line is not None and "invalid YAML" in str(error)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a\n- b\n", "just text\n"])
def test_empty_or_non_mapping_documents(tmp_path: Path, text: str) -> None:
    assert load_error(tmp_path, text).line == 1


def test_merge_keys_are_supported(tmp_path: Path) -> None:
    text = (
        "name: a\ndescription: d\npolicies:\n"
        "  - &base {id: x, type: export_control, elements: [Dy], start: 2026, mode: ban}\n"
        "  - {<<: *base, id: y, elements: [Tb]}\n"
    )
    scenario = load_scenario(write(tmp_path, "m.yaml", text))
    assert [p.id for p in scenario.policies] == ["x", "y"]


# --- round trip ---------------------------------------------------------------------------------
def test_to_yaml_round_trips_a_resolved_scenario(tmp_path: Path) -> None:
    scenario = load_scenario("wartime-rebuild")
    text = scenario.to_yaml()
    assert text.startswith("# rareflow scenario 'wartime-rebuild', resolved from: wartime-rebuild")
    assert "extends" not in text.split("\n", 1)[1]
    again = load_scenario(write(tmp_path, "resolved.yaml", text))
    assert again.model_dump() == scenario.model_dump()
    assert again.lineage == ("wartime-rebuild",)
