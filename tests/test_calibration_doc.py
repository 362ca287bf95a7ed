"""docs/calibration.md and its chart match a fresh 2024 solve of the bundled world."""

from __future__ import annotations

from pathlib import Path

from rareflow.runs.calibration import write

DOCS = Path(__file__).parents[1] / "docs"


def test_calibration_page_is_up_to_date(tmp_path: Path) -> None:
    write(tmp_path)
    for name in ("calibration.md", "calibration.svg"):
        assert (tmp_path / name).read_text() == (DOCS / name).read_text(), (
            f"docs/{name} is out of date: run python -m rareflow.runs.calibration docs")


def test_calibration_page_names_what_was_fitted() -> None:
    text = (DOCS / "calibration.md").read_text()
    for heading in ("## 2024: model beside the references", "## Parameters",
                    "## What was fitted, and to what", "## What remains an assumption"):
        assert heading in text
