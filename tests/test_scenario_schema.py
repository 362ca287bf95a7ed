"""``rareflow scenarios schema``, the shipped schema file and the bundled scenarios' modeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rareflow.cli import main
from rareflow.model.yamlio import read_yaml
from rareflow.scenario import Scenario, bundled_names, bundled_path, load_scenario
from rareflow.scenario.schema import MODELINE, SCHEMA_FILE_NAME, schema_path, schema_text


def test_shipped_schema_matches_the_model() -> None:
    shipped = schema_path()
    assert shipped.name == SCHEMA_FILE_NAME and shipped.is_file()
    assert shipped.read_text(encoding="utf-8") == schema_text(), (
        "scenario.schema.json is stale: run "
        "`rareflow scenarios schema --out src/rareflow/scenarios/scenario.schema.json`")


def test_schema_command_prints_the_model_schema() -> None:
    result = CliRunner().invoke(main, ["scenarios", "schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {key: value for key, value in schema.items() if key != "$schema"} == \
        Scenario.model_json_schema()
    assert {"name", "description", "policies", "uncertainty"} <= set(schema["properties"])


def test_schema_command_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "scenario.schema.json"
    result = CliRunner().invoke(main, ["scenarios", "schema", "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == schema_text()


@pytest.mark.parametrize("name", bundled_names())
def test_bundled_scenario_names_the_schema_and_fits_it(name: str) -> None:
    path = bundled_path(name)
    assert path is not None
    assert path.read_text(encoding="utf-8").splitlines()[0] == MODELINE
    assert (path.parent / SCHEMA_FILE_NAME).is_file()
    raw, _ = read_yaml(path)
    schema = json.loads(schema_text())
    assert set(raw) <= set(schema["properties"])
    assert set(schema["required"]) <= set(raw)
    assert load_scenario(path).name == name  # the modeline is a comment to the loader


def test_a_user_file_with_the_modeline_checks(tmp_path: Path) -> None:
    scenario = tmp_path / "mine.yaml"
    scenario.write_text(f"{MODELINE}\nname: mine\ndescription: modeline only\n"
                        "extends: baseline\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scenarios", "check", str(scenario), "--no-world"])
    assert result.exit_code == 0, result.output
