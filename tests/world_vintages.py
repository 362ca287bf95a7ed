"""A world vintage for tests: the 2024 files re-based to another year, in a temporary folder.

Tests point ``RAREFLOW_WORLDS`` at the folder it is written in, so ``load_world(vintage=...)``,
``--world`` and scenarios' ``world:`` find it like a bundled world.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from rareflow.data.loader import SHARED_FILES, WORLDS_ENV
from rareflow.data.records import RECORD_FILES

#: Name of the test world (not a bundled world's name, which it could not shadow).
TEST_WORLD = "t2010"
TEST_BASE_YEAR = 2010


def write_test_world(root: Path, name: str = TEST_WORLD, base_year: int = TEST_BASE_YEAR) -> Path:
    """Write a copy of the 2024 world with base year ``base_year`` into ``root/name``."""
    folder = root / name
    folder.mkdir(parents=True)
    data = resources.files("rareflow.data")
    for spec in RECORD_FILES:
        if spec.name in SHARED_FILES:
            continue
        text = data.joinpath(spec.name).read_text(encoding="utf-8")
        if spec.name == "world.yaml":
            text = text.replace("base_year: 2024", f"base_year: {base_year}")
        if spec.name in ("prices.yaml", "demand.yaml"):
            text = text.replace("year: 2024", f"year: {base_year}")
        (folder / spec.name).write_text(text, encoding="utf-8")
    return folder


__all__ = ["TEST_BASE_YEAR", "TEST_WORLD", "WORLDS_ENV", "write_test_world"]
