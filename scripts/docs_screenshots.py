"""Screenshots of the built documentation site for the README and the issue notes.

Usage (after ``mkdocs build --strict -d SITE``)::

    python scripts/docs_screenshots.py SITE docs/screenshots

Drives Debian's ``/usr/bin/chromium`` through Playwright at 1280 × 1600 px: the front page, the
scenario language reference at the ``price_floor`` instrument, and the ensemble example at its
first chart (build the site with ``RAREFLOW_DOCS_EXECUTE=1`` so that the example has outputs).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

#: (file name, page of the site, CSS selector of the element to scroll to, or None).
SHOTS = (
    ("docs-home.png", "index.html", None),
    ("docs-scenario-reference.png", "scenario-reference/index.html", "#price_floor"),
    ("docs-example-ensemble.png", "examples/ensemble/index.html", ".notebook-figure"),
)


def main(site: Path, out: Path) -> None:
    """Write every screenshot of :data:`SHOTS` from ``site`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        for name, path, selector in SHOTS:
            page.goto((site / path).resolve().as_uri())
            if selector is not None and page.locator(selector).count():
                page.evaluate(f"document.querySelector('{selector}').previousElementSibling"
                              ".scrollIntoView()")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / name))
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
