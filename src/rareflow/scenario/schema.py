"""The JSON Schema of a scenario file, generated from the pydantic :class:`Scenario` model.

``rareflow scenarios schema`` prints it; a copy ships next to the bundled scenarios
(:data:`SCHEMA_FILE_NAME`), and each bundled YAML names it in a ``yaml-language-server``
modeline, so YAML editors complete and validate scenario files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from rareflow.scenario.library import library_dir
from rareflow.scenario.scenario import Scenario

#: File name of the shipped schema, in the bundled scenario folder.
SCHEMA_FILE_NAME: Final[str] = "scenario.schema.json"

#: The JSON Schema dialect pydantic generates.
DIALECT: Final[str] = "https://json-schema.org/draft/2020-12/schema"

#: First line of every bundled scenario: points YAML editors at the shipped schema.
MODELINE: Final[str] = f"# yaml-language-server: $schema=./{SCHEMA_FILE_NAME}"


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file as a dict (from ``Scenario.model_json_schema()``)."""
    return {"$schema": DIALECT, **Scenario.model_json_schema()}


def schema_text() -> str:
    """The schema as the shipped file holds it: indented JSON ending in a newline."""
    return json.dumps(scenario_schema(), indent=2, ensure_ascii=False) + "\n"


def schema_path() -> Path:
    """Where the shipped schema lives: next to the bundled scenarios."""
    return library_dir() / SCHEMA_FILE_NAME
