"""The generated documentation pages (scenario reference, data guide) from the models."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import BaseModel, Field

from rareflow.data import guide_doc
from rareflow.data.records import RECORD_FILES
from rareflow.model.fields_doc import default_text, field_rows, type_name, unit_of
from rareflow.scenario import reference_doc
from rareflow.scenario.instruments import INSTRUMENT_MODELS


@pytest.mark.parametrize(("name", "unit"), [
    ("floor_usd_per_kg", "USD/kg"), ("amount_usd_m", "million USD"), ("quota_t_per_y", "t/y"),
    ("target_t", "t"), ("loan_rate_pct", "%"), ("approval_share", "fraction 0–1"),
    ("delay_months", "months"), ("from_year", "calendar year"), ("exporter", ""),
])
def test_units_come_from_key_names(name: str, unit: str) -> None:
    assert unit_of(name, float) == unit


def test_years_is_a_duration_or_a_list_of_years() -> None:
    assert unit_of("years", int) == "years"
    assert unit_of("years", tuple[int, ...]) == "calendar years"


class _Example(BaseModel):
    when: dt.date | int | None = None
    share: float = Field(default=0.5, gt=0, le=1, description="a | b")
    kinds: tuple[str, ...] = ("x", "y")
    flag: bool = False


def test_field_rows_spell_types_defaults_bounds_and_escape_pipes() -> None:
    rows = field_rows(_Example)
    assert rows[2].startswith("| `when` | date or year or null |")
    assert "| `0.5` | > 0, ≤ 1 | a \\| b |" in rows[3]
    assert "`[x, y]`" in rows[4] and "`false`" in rows[5]
    assert default_text(_Example.model_fields["when"]) == "none"
    assert type_name(tuple[str, ...]) == "list of text"


def test_scenario_reference_has_every_instrument_key_and_an_example() -> None:
    page = reference_doc.markdown()
    for kind, model in INSTRUMENT_MODELS.items():
        section = page.split(f"### `{kind}`", 1)[1].split("\n### ", 1)[0]
        for name, info in model.model_fields.items():
            if name not in reference_doc.COMMON_KEYS:
                assert f"| `{info.alias or name}` |" in section, (kind, name)
        assert "```yaml" in section, kind
        assert f"type: {kind}" in section, kind


def test_scenario_reference_names_the_publications_of_bundled_policies() -> None:
    page = reference_doc.markdown()
    assert "MOFCOM Announcement No. 61 of 2025" in page
    assert "seeds/" not in page and "FACTS.md" not in page


def test_extra_examples_are_only_for_instruments_no_bundled_scenario_uses() -> None:
    used = {policy.type for policy in reference_doc.bundled_policies()}
    assert set(reference_doc.EXTRA_EXAMPLES) == set(INSTRUMENT_MODELS) - used


def test_data_guide_has_every_file_and_key() -> None:
    page = guide_doc.markdown()
    for spec in RECORD_FILES:
        section = page.split(f"## `{spec.name}`", 1)[1].split("\n## ", 1)[0]
        for name in spec.model.model_fields:
            if name not in ("source", "assumption"):
                assert f"| `{name}` |" in section, (spec.name, name)


def test_scenario_reference_lists_the_bundled_library() -> None:
    from rareflow.scenario import bundled_names

    library = reference_doc.markdown().split("## The bundled library", 1)[1].split("\n## ", 1)[0]
    assert all(f"| `{name}` |" in library for name in bundled_names())
