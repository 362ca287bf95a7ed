"""docs/validation.md and its charts match a fresh run of the bundled backtests (issue #19)."""

from __future__ import annotations

from pathlib import Path

from rareflow.runs.validation_page import write

DOCS = Path(__file__).parents[1] / "docs"


def test_validation_page_is_up_to_date(tmp_path: Path) -> None:
    written = write(tmp_path)
    fresh = {path.name for path in written}
    committed = {"validation.md"} | {path.name for path in DOCS.glob("validation-*.svg")}
    assert committed == fresh, (
        "docs/validation*.svg differ from a fresh run: run python -m rareflow.runs.validation_page "
        "docs (and delete charts of series that are gone)")
    for name in sorted(fresh):
        assert (tmp_path / name).read_text() == (DOCS / name).read_text(), (
            f"docs/{name} is out of date: run python -m rareflow.runs.validation_page docs")
