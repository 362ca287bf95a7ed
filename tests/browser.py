"""Whether the browser tests can run: Debian's chromium, or a stated reason not to."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: Debian's chromium, which Playwright drives (``scripts/install-browser`` installs it).
CHROMIUM = Path("/usr/bin/chromium")


def require_chromium(module_level: bool = False) -> None:
    """Skip or fail the calling test when chromium cannot be used.

    ``RAREFLOW_SKIP_BROWSER=1`` skips on purpose. A missing chromium skips with a one-line
    reason on a developer's machine and fails under ``CI=true``, where ``.ci/run`` installs it.
    """
    if os.environ.get("RAREFLOW_SKIP_BROWSER") == "1":
        pytest.skip("RAREFLOW_SKIP_BROWSER=1", allow_module_level=module_level)
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (run scripts/install-browser, or apt-get install chromium)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason}; CI must run the browser tests", pytrace=False)
    pytest.skip(reason, allow_module_level=module_level)
