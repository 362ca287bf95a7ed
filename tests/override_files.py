"""Data-override files for loader tests: one valid facility record and a writer."""

from __future__ import annotations

import textwrap
from pathlib import Path

#: A valid ``facilities.yaml`` override with one announced US magnet plant.
GOOD_FACILITY = """\
- id: test_magnets
  name: Test magnet plant
  operator: Test Corp
  country: USA
  stage: magnet
  status: announced
  start_year: 2027
  nameplate_t: 1000
  magnet_grades: [ndfeb_standard]
  unit_cost_usd_per_kg: 30
  assumption: test record
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    """Write ``text`` (dedented) or raw ``bytes`` to ``folder/name``; returns the path."""
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
