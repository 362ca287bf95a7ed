"""``rareflow data check`` validates data, prints a summary, and exits 2 on bad data."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from rareflow.cli import main


def test_data_check_bundled() -> None:
    result = CliRunner().invoke(main, ["data", "check"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    assert "separation" in result.output


def test_data_check_json() -> None:
    result = CliRunner().invoke(main, ["data", "check", "--json", "--year", "2030"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] is True
    assert data["year"] == 2030
    stages = {item["stage"]: item for item in data["capacity"]}
    assert stages["magnet"]["world_t"] > stages["magnet"]["china_t"] > 0
    assert data["counts"]["facilities"] >= 40


def test_data_check_bad_override_exits_2(tmp_path: Path) -> None:
    (tmp_path / "regions.yaml").write_text(
        "- {id: USA, name: United States, groups: [allies], source: x}\n"
        "- {id: XXX, name: Nowhere, groups: [], is_china: maybe, source: x}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["data", "check", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "regions.yaml:2" in result.output
    assert "is_china" in result.output


def test_data_check_bad_override_json(tmp_path: Path) -> None:
    (tmp_path / "facilities.yaml").write_text("- {id: x}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["data", "check", "--json", "--data", str(tmp_path)])
    assert result.exit_code == 2
    data = json.loads(result.output)
    assert data["ok"] is False
    assert "facilities.yaml:1" in data["error"]
