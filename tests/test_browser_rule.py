"""Browser tests without chromium: skipped with a reason on a laptop, failed under CI=true."""

from __future__ import annotations

from pathlib import Path

import pytest

import browser


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.delenv("RAREFLOW_SKIP_BROWSER", raising=False)


@pytest.mark.usefixtures("no_chromium")
def test_missing_chromium_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="install-browser"):
        browser.require_chromium()


@pytest.mark.usefixtures("no_chromium")
def test_missing_chromium_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        browser.require_chromium()


def test_skip_on_purpose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAREFLOW_SKIP_BROWSER", "1")
    with pytest.raises(pytest.skip.Exception, match="RAREFLOW_SKIP_BROWSER"):
        browser.require_chromium()
