"""``rareflow report``: figures from real runs, the self-contained HTML file, the CLI, a browser."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest
import xarray as xr
from click.testing import CliRunner
from plotly.offline import get_plotlyjs

from browser import CHROMIUM, require_chromium
from rareflow.cli import main
from rareflow.data.loader import load_world
from rareflow.metrics import answers, fan, prices, self_sufficiency_probability, shortfall
from rareflow.report import ReportMeta, ensemble_figures, render_report, result_figures
from rareflow.report.allocation import trace_pools
from rareflow.report.html import answer_grid, figure_json
from rareflow.report.sankey import sankey_flows
from rareflow.report.series import SCOPE_LINES, shortfall_figure
from rareflow.runs.runner import RunOutcome, run_scenario
from rareflow.testing import empty_result, put

YEARS = range(2024, 2027)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("report-store")


@pytest.fixture(scope="module")
def baseline(store_dir: Path) -> RunOutcome:
    """The baseline scenario 2024-2026, simulated and stored in a real run store."""
    return run_scenario("baseline", years=YEARS, store_dir=store_dir)


@pytest.fixture(scope="module")
def figures(baseline: RunOutcome) -> dict[str, go.Figure]:
    return result_figures(baseline.result, baseline.world)


@pytest.fixture(scope="module")
def summary(baseline: RunOutcome) -> xr.Dataset:
    """An ensemble summary of the contract's shape, computed from three real runs as draws."""
    others = [run_scenario(name, years=YEARS).result
              for name in ("controls-2025-october", "price-war")]
    keep = ["production", "consumption", "trade", "price", "shortfall"]
    draws = xr.concat([ds[keep] for ds in (baseline.result, *others)], dim="draw",
                      coords="minimal", compat="override", join="override")
    world = baseline.world
    series = {
        "NdPr oxide price, outside China": (
            prices(draws, "separation", "NdPr").sel(market="outside_china", drop=True), "USD/kg"),
        "Shortfall outside China, defence": (
            shortfall(draws, [r for r in world.region_ids if r != "CHN"])
            .sel(sector="defence", drop=True), "t magnet"),
    }
    fans = xr.concat([fan(da) for da, _ in series.values()], dim="series", coords="minimal",
                     compat="override")
    fans = fans.assign_coords(series=list(series), unit=("series", [u for _, u in series.values()]))
    allies = [r for r in world.group_members("allies") if r != "USA"]
    probability = self_sufficiency_probability(draws, ["USA"], "magnet", "NdPr",
                                               allied_members=allies)
    target = "USA magnet NdPr ≥90 % domestic+allied"
    return xr.Dataset(
        {"fan": fans.transpose("series", "percentile", "year"),
         "sufficiency_probability": probability.expand_dims(target=[target])},
        attrs={"run_id": "constructed", "scenario_name": "three scenarios", "n_draws": 3,
               "n_done": 3, "n_failed": 0, "seed": 0},
    )


# -- figures ---------------------------------------------------------------------------------

def test_result_figures_ids_titles_and_units(figures: dict[str, go.Figure]) -> None:
    assert list(figures) == ["sankey", "prices", "shortfalls", "shares", "reliance"]
    for key, fig in figures.items():
        assert fig.layout.title.text, key
    units = {"prices": "USD/kg", "shortfalls": "t magnet", "shares": "%", "reliance": "%"}
    for key, unit in units.items():
        assert figures[key].layout.xaxis.title.text == "year"
        assert unit in figures[key].layout.yaxis.title.text
    assert "t REO" in figures["sankey"].layout.title.text


def test_sankey_has_every_stage_and_recycling(figures: dict[str, go.Figure]) -> None:
    sankey = figures["sankey"].data[0]
    assert sankey.type == "sankey"
    stages = {label.split(" · ")[0] for label in sankey.node.label if " · " in label}
    assert {"Mining", "Concentration", "Separation", "Metal", "Magnets", "Recycling",
            "End use"} <= stages
    assert "China" in {label.split(" · ")[1] for label in sankey.node.label if " · " in label}
    assert "2026" in figures["sankey"].layout.title.text  # the last year by default


def _node_totals(fig: go.Figure) -> tuple[list[str], np.ndarray, np.ndarray]:
    sankey = fig.data[0]
    n = len(sankey.node.label)
    inflow, outflow = np.zeros(n), np.zeros(n)
    for source, target, value in zip(sankey.link.source, sankey.link.target, sankey.link.value,
                                     strict=True):
        assert value > 0
        outflow[source] += value
        inflow[target] += value
    return list(sankey.node.label), inflow, outflow


def test_sankey_node_flows_balance(figures: dict[str, go.Figure]) -> None:
    labels, inflow, outflow = _node_totals(figures["sankey"])
    through = [i for i in range(len(labels)) if inflow[i] > 0 and outflow[i] > 0]
    stages = {labels[i].split(" · ")[0] for i in through}
    assert {"Concentration", "Separation", "Metal", "Magnets", "Recycling"} <= stages
    for i in through:
        assert inflow[i] == pytest.approx(outflow[i], rel=1e-6, abs=1e-6), labels[i]


def test_sankey_totals_match_the_result(baseline: RunOutcome) -> None:
    world, ds = baseline.world, baseline.result
    for year in (2024, 2026):
        fig = result_figures(ds, world, year=year)["sankey"]
        assert str(year) in fig.layout.title.text
        labels, inflow, outflow = _node_totals(fig)
        one = ds.sel(year=year)
        mined = float(one.production.sel(stage="mining").sum())
        assert sum(outflow[i] for i, lab in enumerate(labels)
                   if lab.startswith("Mining")) == pytest.approx(mined, rel=1e-9)
        oxide_sectors = [s.id for s in world.sectors if s.kind == "oxide"]
        end_use = (float(one.consumption.sel(stage="magnet").sum())
                   + float(one.served.sel(sector=oxide_sectors).sum()))
        assert sum(inflow[i] for i, lab in enumerate(labels)
                   if lab.startswith("End use")) == pytest.approx(end_use, rel=1e-6)


def test_bad_sankey_year_is_rejected(baseline: RunOutcome) -> None:
    with pytest.raises(ValueError, match="2050"):
        result_figures(baseline.result, baseline.world, year=2050)


def test_price_series_inside_and_outside_china(
    baseline: RunOutcome, figures: dict[str, go.Figure]
) -> None:
    traces = {trace.name: trace for trace in figures["prices"].data}
    assert {"NdPr oxide, inside China", "NdPr oxide, outside China"} <= set(traces)
    expected = prices(baseline.result, "separation", "NdPr")
    for market, name in (("inside_china", "NdPr oxide, inside China"),
                         ("outside_china", "NdPr oxide, outside China")):
        assert list(traces[name].x) == list(YEARS)
        np.testing.assert_allclose(traces[name].y, expected.sel(market=market).values,
                                   rtol=1e-5)
    assert figures["prices"].layout.yaxis.type == "log"


def test_area_menus_switch_regions(figures: dict[str, go.Figure]) -> None:
    menu = figures["shortfalls"].layout.updatemenus[0]
    labels = [button.label for button in menu.buttons]
    assert labels[:2] == ["World", "United States"]
    n_traces = len(figures["shortfalls"].data)
    for button in menu.buttons:
        visible = button.args[0]["visible"]
        # one shortfall and one demand-response line per sector
        assert len(visible) == n_traces and sum(visible) == 12
    assert figures["reliance"].layout.updatemenus[0].buttons[0].label == "United States"
    names = [trace.name for trace in figures["reliance"].data]
    assert {"oxide", "magnets", *SCOPE_LINES} <= set(names)
    assert figures["shares"].layout.updatemenus[0].buttons[0].label == "China"


def test_shortfall_chart_keeps_demand_response_apart() -> None:
    world = load_world()
    sectors = [sector.id for sector in world.sectors]
    ds = empty_result(list(YEARS), world.region_ids, sectors=sectors)
    put(ds, "shortfall", 5.0, region="USA", sector="defence")
    put(ds, "demand_response", 40.0, region="USA", sector="defence")
    put(ds, "demand_response", -8.0, region="USA", sector="ev")  # cheaper: more used
    fig = shortfall_figure(ds, world)
    assert fig.layout.title.text.startswith("Shortfalls")
    assert "demand response" in fig.layout.title.text
    n = len(sectors)
    in_world = fig.data[:2 * n]  # the world's traces come first
    assert in_world[0].name == "defence shortfall (t magnet)"
    assert in_world[n].name == "defence demand response (t magnet)"
    np.testing.assert_allclose(in_world[0].y, [5.0] * len(YEARS))
    np.testing.assert_allclose(in_world[n].y, [40.0] * len(YEARS))
    ev = next(t for t in in_world[n:] if t.name.startswith("EV demand response"))
    np.testing.assert_allclose(ev.y, [-8.0] * len(YEARS))
    assert {t.line.dash for t in in_world[:n]} == {"solid"}
    assert {t.line.dash for t in in_world[n:]} == {"dot"}
    assert not any("unmet" in t.name.lower() for t in fig.data)


def test_trace_pools_follows_re_exports() -> None:
    # A makes 10 and ships it all to B; B makes 5, ships 6 on to C and uses 9; C uses 6.
    trade = np.array([[0.0, 10.0, 0.0], [0.0, 0.0, 6.0], [0.0, 0.0, 0.0]])
    flows = trace_pools([{"make A": 10.0}, {"make B": 5.0}, {}],
                        [{}, {"use B": 9.0}, {"use C": 6.0}], trade)
    assert flows[("make A", "use B")] == pytest.approx(6.0)  # B's pool is 2/3 from A
    assert flows[("make A", "use C")] == pytest.approx(4.0)
    assert flows[("make B", "use B")] == pytest.approx(3.0)
    assert flows[("make B", "use C")] == pytest.approx(2.0)


def test_sankey_groups_small_regions(baseline: RunOutcome) -> None:
    flows = sankey_flows(baseline.result, baseline.world, 2026, max_regions=3)
    labels = [label for label, _ in flows.groups]
    assert labels[0] == "China" and labels[-1] == "Rest of world" and len(labels) == 4
    members = [r for _, group in flows.groups for r in group]
    assert sorted(members) == sorted(baseline.world.region_ids)


def test_ensemble_figures(summary: xr.Dataset) -> None:
    figs = ensemble_figures(summary)
    assert list(figs) == ["fan-ndpr-oxide-price-outside-china",
                          "fan-shortfall-outside-china-defence", "sufficiency"]
    price = figs["fan-ndpr-oxide-price-outside-china"]
    assert price.layout.yaxis.title.text == "USD/kg"
    median = next(trace for trace in price.data if trace.name == "median")
    expected = summary["fan"].sel(series="NdPr oxide price, outside China", percentile=50)
    np.testing.assert_allclose(median.y, expected.values, rtol=1e-5)
    assert [trace.fill for trace in price.data].count("tonexty") == 2
    low = summary["fan"].sel(series="NdPr oxide price, outside China", percentile=5)
    high = summary["fan"].sel(series="NdPr oxide price, outside China", percentile=95)
    assert float((high - low).max()) > 0  # the three draws differ
    curve = figs["sufficiency"].data[0]
    assert curve.name == "USA magnet NdPr ≥90 % domestic+allied"
    assert all(0 <= y <= 100 for y in curve.y)


def test_ensemble_figures_reject_other_datasets(baseline: RunOutcome) -> None:
    with pytest.raises(ValueError, match="fan"):
        ensemble_figures(baseline.result)


# -- HTML ------------------------------------------------------------------------------------

class _Scripts(HTMLParser):
    """Collects every <script> element's attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


_REMOTE = re.compile(
    r"""<script[^>]*\ssrc\s*=|<link[^>]*href\s*=\s*["']?(?:https?:)?//|"""
    r"""<(?:img|iframe|source|video|audio|embed)[^>]*src\s*=\s*["']?(?:https?:)?//|"""
    r"""url\(\s*["']?(?:https?:)?//|@import""",
    re.IGNORECASE,
)


def _outside_scripts(page: str) -> str:
    return re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.DOTALL | re.IGNORECASE)


@pytest.fixture(scope="module")
def page(baseline: RunOutcome) -> str:
    meta = ReportMeta.from_result(baseline.result, origin="test")
    return render_report(baseline.result, baseline.world, meta)


def test_html_is_self_contained(page: str) -> None:
    assert "<script src" not in page.lower()
    assert not _REMOTE.search(page)
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?https?://", _outside_scripts(page), re.I)
    parser = _Scripts()
    parser.feed(page)
    code = [text for attrs, text in parser.scripts if "src" not in attrs]
    assert len(code) == len(parser.scripts)
    assert any(get_plotlyjs()[:2000] in text for text in code)  # plotly.js is inlined


def test_html_carries_every_chart_and_the_answers(baseline: RunOutcome, page: str) -> None:
    parser = _Scripts()
    parser.feed(page)
    data = [(attrs, text) for attrs, text in parser.scripts if attrs.get("class") == "figure-data"]
    assert [attrs["data-target"] for attrs, _ in data] == [
        "chart-sankey", "chart-prices", "chart-shortfalls", "chart-shares", "chart-reliance"]
    for attrs, text in data:
        figure = json.loads(text)
        assert figure["data"] and figure["layout"]["title"]["text"]
        assert f'id="{attrs["data-target"]}"' in page
    frame = answers(baseline.result, baseline.world)
    assert "USA import reliance for magnets" in page
    assert "<th>definition</th>" in page
    assert "USGS MCS scope: compounds and metals (separated oxide + metal)" in page
    for answer in frame["answer"]:
        assert str(answer).replace("&", "&amp;") in page
    assert 'href="#provenance"' in page and "regions.yaml" in page
    assert "rareflow-world 2024.1" in page


def test_html_escapes_what_it_interpolates(baseline: RunOutcome) -> None:
    hostile = '<script>alert("x")</script>'
    meta = ReportMeta(scenario_name=hostile, run_id="<b>id</b>",
                      scenario_text=f"name: x\n# {hostile}\n</pre><img src=x onerror=1>",
                      data_version='"><script>', code_version="0.1.0", seed=1)
    page = render_report(baseline.result, baseline.world, meta)
    assert "alert" in page
    assert "<script>alert" not in page and "<b>id</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;/pre&gt;&lt;img src=x" in page
    parser = _Scripts()
    parser.feed(page)
    assert len(parser.scripts) == 5 + 2  # five figures, plotly.js, the boot script


def test_figure_json_cannot_close_its_script() -> None:
    fig = go.Figure(go.Scatter(x=[1], y=[2], name="</script><b>&"))
    fig.update_layout(title="a < b > c")
    text = figure_json(fig)
    assert "<" not in text and ">" not in text and "&" not in text
    parsed = json.loads(text)
    assert parsed["data"][0]["name"] == "</script><b>&"
    assert parsed["layout"]["title"]["text"] == "a < b > c"


def test_answer_grid_puts_years_in_columns(baseline: RunOutcome) -> None:
    years, rows = answer_grid(answers(baseline.result, baseline.world))
    assert years == [2024, 2026]
    grid = dict(rows)
    assert set(grid["China share of separation"]) == {2024, 2026}
    assert any(set(cells) == {0} for cells in grid.values())  # self-sufficiency rows


def test_html_with_ensemble_section(baseline: RunOutcome, summary: xr.Dataset) -> None:
    meta = ReportMeta(scenario_name="three scenarios", kind="ensemble", n_draws=3, n_done=3,
                      draw=0, data_version="rareflow-world 2024.1", seed=0)
    page = render_report(baseline.result, baseline.world, meta, summary=summary)
    assert '<section id="ensemble">' in page
    for key in ensemble_figures(summary):
        assert f'data-target="chart-{key}"' in page
    assert "those of draw 0" in page
    assert "USA magnet NdPr ≥90 % domestic+allied" in page


# -- CLI -------------------------------------------------------------------------------------

def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_cli_writes_report_of_stored_run(
    baseline: RunOutcome, store_dir: Path, tmp_path: Path
) -> None:
    assert baseline.run_id is not None
    out = tmp_path / "report.html"
    code, output = _cli("report", baseline.run_id[:6], "--store", str(store_dir),
                        "--out", str(out), "--year", "2025")
    assert code == 0, output
    page = out.read_text(encoding="utf-8")
    assert baseline.run_id in page and "Material flows, 2025" in page
    assert "name: baseline" in page  # the stored scenario YAML
    assert "wrote" in output


def test_cli_reads_netcdf(baseline: RunOutcome, tmp_path: Path) -> None:
    netcdf = tmp_path / "run.nc"
    baseline.result.to_netcdf(netcdf, engine="scipy")
    out = tmp_path / "from-file.html"
    code, output = _cli("report", str(netcdf), "--store", str(tmp_path / "none"),
                        "--out", str(out))
    assert code == 0, output
    assert "Material flows, 2026" in out.read_text(encoding="utf-8")


def test_cli_unknown_run_and_bad_year_exit_2(
    baseline: RunOutcome, store_dir: Path, tmp_path: Path
) -> None:
    assert baseline.run_id is not None
    typo = baseline.run_id[:-1] + ("0" if baseline.run_id[-1] != "0" else "1")
    code, output = _cli("report", typo, "--store", str(store_dir), "--out",
                        str(tmp_path / "x.html"))
    assert code == 2
    assert f"no run '{typo}'" in output and baseline.run_id in output  # the closest id
    code, output = _cli("report", baseline.run_id, "--store", str(store_dir), "--year", "2050",
                        "--out", str(tmp_path / "x.html"))
    assert code == 2 and "2050" in output and "2024–2026" in output
    code, output = _cli("report", "abc", "--store", str(tmp_path / "nowhere"))
    assert code == 2 and "no run store" in output
    assert not (tmp_path / "x.html").exists()


# -- browser ---------------------------------------------------------------------------------
# Debian chromium through Playwright, network blocked. Without it these tests skip (fail under
# CI=true, tests/browser.py); RAREFLOW_SKIP_BROWSER=1 skips them on purpose.
# RAREFLOW_SCREENSHOT_DIR=docs also refreshes docs/report.png (the top of the baseline
# 2024-2040 report, linked from the README).

@contextmanager
def _offline_page(width: int = 1280, height: int = 1600, scale: float = 1.0) -> Iterator[Any]:
    """A Chromium page that may read local files only; yields (page, remote urls, js errors)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    remote: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"],
        )
        try:
            context = browser.new_context(offline=True, device_scale_factor=scale,
                                          viewport={"width": width, "height": height})
            page = context.new_page()

            def block(route: Any) -> None:
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    remote.append(route.request.url)
                    route.abort()

            page.route("**/*", block)
            page.on("pageerror", lambda error: errors.append(str(error)))
            yield page, remote, errors
        finally:
            browser.close()


_RENDERED = ("document.querySelectorAll('.js-plotly-plot').length === 5"
             " && document.querySelectorAll('g.sankey-node').length > 0")


@pytest.mark.browser
def test_report_renders_offline_in_chromium(
    baseline: RunOutcome, figures: dict[str, go.Figure], tmp_path: Path
) -> None:
    path = tmp_path / "report.html"
    meta = ReportMeta.from_result(baseline.result)
    path.write_text(render_report(baseline.result, baseline.world, meta), encoding="utf-8")
    with _offline_page() as (page, remote, errors):
        page.goto(path.as_uri())
        page.wait_for_function(_RENDERED, timeout=30_000)
        n_nodes = page.locator("#chart-sankey g.sankey-node").count()
        n_lines = page.locator("#chart-prices g.scatterlayer g.trace").count()
        title = page.locator("#chart-sankey .gtitle").text_content() or ""
    assert remote == [] and errors == []
    assert n_nodes == len(figures["sankey"].data[0].node.label)
    assert n_lines == len(figures["prices"].data)
    assert "Material flows" in title


@pytest.mark.browser
def test_report_screenshot(tmp_path: Path) -> None:
    target = os.environ.get("RAREFLOW_SCREENSHOT_DIR")
    if not target:
        pytest.skip("set RAREFLOW_SCREENSHOT_DIR=docs to refresh docs/report.png")
    outcome = run_scenario("baseline", years=range(2024, 2041), store_dir=tmp_path / "store")
    assert outcome.run_id is not None
    html_file = tmp_path / "report.html"
    code, output = _cli("report", outcome.run_id, "--store", str(tmp_path / "store"),
                        "--out", str(html_file))
    assert code == 0, output
    # 1440 CSS px wide at 8/9 scale: a 1280 x 1600 image showing the answers and the Sankey.
    with _offline_page(1440, 1800, 8 / 9) as (page, remote, errors):
        page.goto(html_file.as_uri())
        page.wait_for_function(_RENDERED, timeout=30_000)
        page.wait_for_timeout(500)  # let the Sankey's entry transition finish
        page.screenshot(path=str(Path(target) / "report.png"))
    assert remote == [] and errors == []


@pytest.mark.slow
def test_cli_reports_a_real_ensemble(tmp_path: Path) -> None:
    from rareflow.runs.ensemble.driver import run_ensemble

    outcome = run_ensemble("baseline", draws=2, seed=3, years=YEARS, store_dir=tmp_path,
                           workers=1, durable=False)
    out = tmp_path / "ensemble.html"
    code, output = _cli("report", outcome.run_id, "--store", str(tmp_path), "--out", str(out))
    assert code == 0, output
    page = out.read_text(encoding="utf-8")
    assert '<section id="ensemble">' in page and "2 of 2 draws done" in page
    assert 'data-target="chart-sufficiency"' in page
    assert page.count('class="figure-data"') > 5 + 1  # the run's charts, fans, probability
