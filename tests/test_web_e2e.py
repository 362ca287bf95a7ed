"""The dashboard end to end: the real server, driven by headless Debian Chromium (Playwright).

Needs ``/usr/bin/chromium`` (``scripts/install-browser`` installs it). Without it these tests
skip with a one-line reason, and fail under ``CI=true``; ``RAREFLOW_SKIP_BROWSER=1`` skips them
on purpose. Set ``RAREFLOW_SCREENSHOT_DIR=docs`` to
also save ``dashboard.png`` there (the screenshot linked from the README).
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser import CHROMIUM, require_chromium

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]
CHARTS = ("sankey", "prices", "shortfalls", "shares", "reliance")
RUN_TIMEOUT_MS = 180_000  # a generous bound for a 3-year run on a busy machine, not a speed test

require_chromium(module_level=True)

from playwright.sync_api import (  # noqa: E402
    Browser,
    ConsoleMessage,
    Page,
    Response,
    expect,
    sync_playwright,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real dashboard (uvicorn) on a free loopback port, storing runs in a fresh store."""
    import uvicorn

    from rareflow.web.app import create_app

    app = create_app(tmp_path_factory.mktemp("e2e-store"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(600):
        if server.started or not thread.is_alive():
            break
        started.wait(0.1)
    assert server.started, "the dashboard server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (the module is skipped, or fails in CI, without it)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh page on the dashboard; fails the test on any script error or missing asset.

    API answers of 4xx are part of some tests (the page shows their message), so failed
    responses count as problems only outside ``/api/``; the browser's own "Failed to load
    resource" console lines duplicate those and are left to the response check.
    """
    context = browser.new_context(viewport={"width": 1440, "height": 1500})
    opened = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console: {message.text}")

    def on_response(response: Response) -> None:
        if response.status >= 400 and "/api/" not in response.url:
            problems.append(f"{response.status} for {response.url}")

    opened.on("console", on_console)
    opened.on("response", on_response)
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.goto(server)
    expect(opened.locator("body")).to_have_attribute("data-ready", "true")
    yield opened
    context.close()
    assert problems == [], problems


def run_and_wait(page: Page, previous_run: str | None) -> str:
    """Press Run, wait for a new run on screen, and return its id."""
    page.click("#run-button")
    title = page.locator("#run-title")
    if previous_run is None:
        expect(title).to_have_attribute("data-run-id", re.compile(r"^[0-9a-f]{12}$"),
                                        timeout=RUN_TIMEOUT_MS)
    else:
        expect(title).not_to_have_attribute("data-run-id", previous_run, timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#run-button")).to_be_enabled(timeout=RUN_TIMEOUT_MS)
    run_id = title.get_attribute("data-run-id")
    assert run_id is not None and re.fullmatch(r"[0-9a-f]{12}", run_id)
    return run_id


def fiscal_card(page: Page) -> str:
    return page.locator('.metric[data-key="fiscal_cost"] .metric-value').inner_text()


def assert_charts_drawn(page: Page) -> None:
    for chart in CHARTS:
        expect(page.locator(f"#chart-{chart} .main-svg").first).to_be_visible()
    assert page.locator("#chart-sankey .sankey-node").count() > 0
    assert page.locator("#chart-prices .scatterlayer .trace").count() > 0


def test_run_change_a_lever_reopen_and_compare(page: Page) -> None:
    # Picking a scenario fills the levers with its own settings.
    page.select_option("#scenario", "mp-dod-2025")
    expect(page.locator("#price-floor")).to_have_value("110")
    expect(page.locator("#floor-hint")).to_contain_text("Price floor: DoD pays MP")
    expect(page.locator("#floor-hint")).to_have_attribute("title", "dod_mp_ndpr_floor")
    page.select_option("#scenario", "baseline")
    expect(page.locator("#price-floor")).to_have_value("0")
    page.fill("#year-start", "2024")
    page.fill("#year-end", "2026")

    first = run_and_wait(page, None)
    assert_charts_drawn(page)
    expect(page.locator("#run-title")).to_contain_text("Baseline: no new controls · 2024–2026")
    expect(page.locator("#run-title")).to_have_attribute("title", "baseline")
    assert fiscal_card(page) == "$0 M"
    assert page.locator("#answers tbody tr").count() > 10
    with page.expect_download() as download_info:  # any chart's numbers as CSV
        page.click("#csv-prices")
    prices = Path(download_info.value.path()).read_text().splitlines()
    assert prices[0] == "series,x,y" and len(prices) > 3
    assert any(line.startswith('"NdPr oxide, outside China",2026,') for line in prices[1:])
    page.select_option("#sankey-element", "Dy")  # the Sankey of one element
    expect(page.locator("#chart-sankey .gtitle")).to_contain_text("Dy only")

    # Move one lever: a US$200/kg NdPr floor for MP Materials; its cost must show up.
    page.fill("#price-floor", "200")
    expect(page.locator("#floor-range")).to_have_value("200")
    second = run_and_wait(page, first)
    assert_charts_drawn(page)
    expect(page.locator("#run-title")).to_contain_text("with dashboard changes")
    expect(page.locator("#run-changes")).to_contain_text("price floor 200 USD/kg")
    assert fiscal_card(page) != "$0 M"
    delta = page.locator('.metric[data-key="fiscal_cost"] .metric-delta')
    expect(delta).to_contain_text("▲")
    expect(delta).to_contain_text("vs previous run")
    expect(delta).to_contain_text("$")  # one money format: "$12 M"
    screenshot_dir = os.environ.get("RAREFLOW_SCREENSHOT_DIR")
    if screenshot_dir:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(Path(screenshot_dir) / "dashboard.png"))

    # Both runs are in the past-runs list, newest first.
    rows = page.locator("#runs tbody tr")
    expect(rows).to_have_count(2)
    assert rows.nth(0).get_attribute("data-run-id") == second
    assert rows.nth(1).get_attribute("data-run-id") == first

    # Compare: the floor's fiscal cost is the difference.
    page.check(f'#runs tr[data-run-id="{first}"] input[name="cmp-a"]')
    page.check(f'#runs tr[data-run-id="{second}"] input[name="cmp-b"]')
    page.click("#compare-button")
    comparison = page.locator("#comparison")
    # the server computes both runs' answers: a busy machine may take a while
    expect(comparison).to_be_visible(timeout=RUN_TIMEOUT_MS)
    fiscal_row = page.locator("#compare-table tbody tr", has_text="Total fiscal cost 2024–2026")
    expect(fiscal_row).to_have_count(1)
    cells = fiscal_row.locator("td")
    assert cells.nth(1).inner_text() == "$0 M"
    assert cells.nth(3).inner_text().startswith("+$")
    # Charts of A and B over every year, with the difference.
    for chart in ("prices", "shortfalls", "shares", "reliance"):
        expect(page.locator(f"#compare-chart-{chart} .main-svg").first).to_be_visible()
    assert page.locator("#compare-chart-prices .scatterlayer .trace").count() == 2
    expect(page.locator("#compare-chart-prices .xtick")).to_have_count(3)  # 2024, 2025, 2026
    # The CSV download is the API's comparison of the two runs.
    with page.expect_download() as download_info:
        page.click("#compare-csv")
    download = download_info.value
    assert download.suggested_filename == f"rareflow-compare-{first}-{second}.csv"
    text = Path(download.path()).read_text()
    assert text.startswith(f"# A = run {first}\n# B = run {second}\n")
    assert "Total fiscal cost 2024–2026" in text

    # Reopen the first run: its numbers and its levers come back.
    page.click(f'#runs tr[data-run-id="{first}"] button')
    expect(page.locator("#run-title")).to_have_attribute("data-run-id", first)
    assert fiscal_card(page) == "$0 M"
    expect(page.locator("#price-floor")).to_have_value("0")
    assert_charts_drawn(page)


def test_words_glossary_and_the_approval_field(page: Page) -> None:
    assert page.locator("#scenario option[value='mp-dod-2025']").inner_text() == (
        "US Defense Department deal with MP Materials")
    page.click("#glossary summary")
    for term in ("t REO", "HHI", "CRMA", "de minimis", "NdPr", "Offtake", "Price floor",
                 "Demand response", "Shortfall", "pp"):
        expect(page.locator("#glossary dt", has_text=term).first).to_be_visible()
    page.click("#glossary summary")
    page.select_option("#scenario", "heavy-ban")
    page.select_option("#ec-mode", "licence")
    expect(page.locator("#ec-approval")).to_be_visible()
    page.select_option("#ec-mode", "ban")
    expect(page.locator("#ec-approval")).to_be_hidden()
    expect(page.locator("#ec-policy option:checked")).not_to_contain_text("_")


def _run_all_years(page: Page, scenario: str) -> int:
    """Start ``scenario`` over 2024–2040; the number of stored runs listed before."""
    before = page.locator("#runs tbody tr[data-run-id]").count()
    page.select_option("#scenario", scenario)
    page.fill("#year-start", "2024")
    page.fill("#year-end", "2040")
    page.click("#run-button")
    return before


def test_a_run_shows_its_progress_year_by_year(page: Page) -> None:
    # the heaviest bundled scenario over all 17 years: the page polls every 0.3 s, so it sees
    # the run part-way through on any machine of today
    before = _run_all_years(page, "actual-path-2025")
    expect(page.locator("#run-progress-text")).to_contain_text(re.compile(r"[1-9]\d* of 17 years"),
                                                               timeout=RUN_TIMEOUT_MS)
    # not just "finished": while running, the status reads "…, last finished 2040 · 3 s"
    expect(page.locator("#status")).to_contain_text(re.compile(r"Run [0-9a-f]{12} finished in"),
                                                    timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#runs tbody tr[data-run-id]")).to_have_count(before + 1)


def test_a_run_can_be_cancelled_and_stores_nothing(page: Page) -> None:
    before = _run_all_years(page, "baseline")
    expect(page.locator("#cancel-button")).to_be_visible()
    # cancelled as soon as the server has the job (its first progress line), long before the
    # run could end: a cancel that arrives after the run is stored leaves it stored
    expect(page.locator("#run-progress-text")).to_contain_text(re.compile(r"\d+ of 17 years"),
                                                               timeout=RUN_TIMEOUT_MS)
    page.click("#cancel-button")
    expect(page.locator("#status")).to_contain_text("nothing was stored", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#cancel-button")).to_be_hidden()
    expect(page.locator("#run-button")).to_be_enabled()
    page.click("#refresh-runs")
    expect(page.locator("#runs tbody tr[data-run-id]")).to_have_count(before)


def test_invalid_levers_are_explained_and_nothing_runs(page: Page) -> None:
    page.select_option("#scenario", "heavy-ban")
    expect(page.locator("#ec-policy")).to_have_value("chn_heavy_ban")
    expect(page.locator("#ec-elements input:checked")).to_have_count(2)  # Tb and Dy
    page.uncheck("#ec-el-Tb")
    page.uncheck("#ec-el-Dy")
    page.click("#run-button")
    expect(page.locator("#form-error")).to_contain_text("at least one element")

    page.check("#ec-el-Dy")
    page.fill("#year-start", "2030")
    page.fill("#year-end", "2025")
    page.click("#run-button")
    error = page.locator("#form-error")
    expect(error).to_contain_text("before")
    expect(page.locator("#run-title")).not_to_have_attribute("data-run-id", re.compile("."))


# --- layout at phone, tablet and desktop widths ------------------------------------------------

#: Text boxes that must never overlap: headings, labels, controls, and the charts' own text.
TEXT_BOXES = ", ".join((
    "h1", "h2", "legend", ".title", ".field-title", ".hint", ".status", "button", "select",
    "input[type=number]", "input[type=date]", ".metric-label", ".metric-value", "th",
    ".chart .gtitle", ".chart .legendtext", ".chart .updatemenu-header-group", ".chart .xtitle",
    ".chart .ytitle", ".chart .node-label",
))

OVERLAPS_JS = """(selector) => {
  const boxes = [];
  for (const node of document.querySelectorAll(selector)) {
    const rect = node.getBoundingClientRect();
    const style = getComputedStyle(node);
    if (rect.width < 1 || rect.height < 1 || style.visibility === "hidden") continue;
    if (node.closest("[hidden]")) continue;
    if ((node.textContent || node.value || "").trim() === "" && !node.matches("input, select"))
      continue;
    // A sticky or fixed bar covers what scrolls under it by design: compare it only with
    // what sticks along with it.
    let stuck = null;
    for (let up = node; up && up !== document.body; up = up.parentElement) {
      const position = getComputedStyle(up).position;
      if (position === "sticky" || position === "fixed") { stuck = up; break; }
    }
    boxes.push({ node, rect, stuck });
  }
  const found = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.node.contains(b.node) || b.node.contains(a.node) || a.stuck !== b.stuck) continue;
      const w = Math.min(a.rect.right, b.rect.right) - Math.max(a.rect.left, b.rect.left);
      const h = Math.min(a.rect.bottom, b.rect.bottom) - Math.max(a.rect.top, b.rect.top);
      if (w > 2 && h > 2) {
        const name = (n) => `${n.tagName.toLowerCase()}.${n.getAttribute("class") || ""}` +
          `#${n.id || ""} '${(n.textContent || n.value || "").trim().slice(0, 30)}'`;
        found.push(`${name(a.node)} x ${name(b.node)}`);
      }
    }
  }
  return found;
}"""

WIDTH_JS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def layout_problems(page: Page) -> tuple[int, list[str]]:
    """The page's scroll width and every pair of overlapping text boxes."""
    scroll_width, inner = page.evaluate(WIDTH_JS)
    overlaps: list[str] = page.evaluate(OVERLAPS_JS, TEXT_BOXES)
    return scroll_width - inner, overlaps


@pytest.mark.parametrize("width", [390, 768, 1440])
def test_layout_fits_phone_tablet_and_desktop(browser: Browser, server: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(server)
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        if page.locator("#runs tbody tr[data-run-id]").count() == 0:
            page.fill("#year-start", "2024")
            page.fill("#year-end", "2026")
            run_and_wait(page, None)
        else:
            page.locator("#runs tbody tr[data-run-id] button").first.click()
            expect(page.locator("#run-title")).to_have_attribute("data-run-id", re.compile("."),
                                                                 timeout=RUN_TIMEOUT_MS)
        assert_charts_drawn(page)
        runs = page.locator("#runs tbody tr[data-run-id]")
        if runs.count() >= 2:  # the comparison's charts and table must fit as well
            runs.nth(1).locator('input[name="cmp-a"]').check()
            runs.nth(0).locator('input[name="cmp-b"]').check()
            page.click("#compare-button")
            expect(page.locator("#compare-chart-prices .main-svg").first).to_be_visible(
                timeout=RUN_TIMEOUT_MS)
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(500)  # the debounced re-fit of the charts to their boxes
        excess, overlaps = layout_problems(page)
        assert excess <= 0, f"the page scrolls sideways by {excess} px at {width} px"
        assert overlaps == [], overlaps
        screenshot_dir = os.environ.get("RAREFLOW_SCREENSHOT_DIR")
        if screenshot_dir:
            height = min(int(page.evaluate("document.documentElement.scrollHeight")), 2400)
            page.screenshot(path=str(Path(screenshot_dir) / f"dashboard-{width}.png"),
                            full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
    finally:
        context.close()
