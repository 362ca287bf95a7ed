"""The dashboard's HTTP API against a real run store and real solves (``rareflow serve``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from rareflow.cli import main
from rareflow.cli.serve import is_loopback
from rareflow.data.loader import load_world
from rareflow.metrics import answers
from rareflow.model.world import World
from rareflow.scenario import (
    ExportControl,
    PriceFloor,
    RecyclingTarget,
    bundled_names_of,
    load_scenario,
)
from rareflow.store import RunStore
from rareflow.testing import empty_result, put
from rareflow.web.app import create_app
from rareflow.web.assets import plotly_js
from rareflow.web.derive import LeverError, derive_scenario
from rareflow.web.guard import RequestGuard
from rareflow.web.levers import NEW_POLICY_TERMS, ExportControlLever, Levers, lever_defaults
from rareflow.web.views import headline

BASE = "http://127.0.0.1"
SHORT = {"start": 2024, "end": 2026}
CHARTS = {"sankey", "prices", "shortfalls", "shares", "reliance"}


@pytest.fixture(scope="module")
def world() -> World:
    return load_world()


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web-store")


@pytest.fixture(scope="module")
def app(store_dir: Path) -> RequestGuard:
    return create_app(store_dir, max_active_runs=1)


@pytest.fixture(scope="module")
def client(app: RequestGuard) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def two_runs(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """Baseline as bundled, then baseline with a US$200/kg NdPr price floor (2024-2026)."""
    plain = client.post("/api/runs", json={"scenario": "baseline", "years": SHORT})
    assert plain.status_code == 201, plain.text
    floored = client.post("/api/runs", json={
        "scenario": "baseline", "years": SHORT, "levers": {"price_floor_usd_per_kg": 200},
    })
    assert floored.status_code == 201, floored.text
    return plain.json(), floored.json()


def card(view: dict[str, Any], key: str) -> dict[str, Any]:
    return next(c for c in view["headline"] if c["key"] == key)


def raw_get(app: RequestGuard, raw_path: bytes) -> tuple[int, bytes]:
    """Send ``raw_path`` to the ASGI app exactly as a server would, without URL normalising."""
    from urllib.parse import unquote_to_bytes

    path, _, query = raw_path.partition(b"?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": unquote_to_bytes(path).decode("utf-8", "replace"),
        "raw_path": path, "query_string": query, "root_path": "",
        "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8050),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


# --- page and assets ---------------------------------------------------------------------------


def test_page_uses_only_local_assets(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script src="/static/plotly.min.js"' in page.text
    assert "http://" not in page.text and "https://" not in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"


def test_assets_are_served_from_their_own_files(client: TestClient) -> None:
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200
    assert plotly.headers["content-type"].startswith("text/javascript")
    assert hashlib.sha256(plotly.content).digest() == hashlib.sha256(
        plotly_js().read_bytes()).digest()
    for name in ("app.js", "app.css", "favicon.svg"):
        assert client.get(f"/static/{name}").status_code == 200


@pytest.mark.parametrize("raw_path", [
    b"/static/../pyproject.toml",
    b"/static/..%2Fpyproject.toml",
    b"/static/..%2fpyproject.toml",
    b"/static/%2e%2e%2fpyproject.toml",
    b"/static/%2E%2E/%2E%2E/pyproject.toml",
    b"/static/%252e%252e%252fpyproject.toml",
    b"/static/..%5cpyproject.toml",
    b"/static//etc/passwd",
    b"/static/%2fetc%2fpasswd",
    b"/static/index.html",
    b"/static/app.js%00.txt",
    b"/static/",
    b"/pyproject.toml",
    b"/../../../../etc/passwd",
    b"/api/runs/..%2f..%2fpyproject.toml",
])
def test_no_path_outside_the_asset_list(app: RequestGuard, raw_path: bytes) -> None:
    status, body = raw_get(app, raw_path)
    assert status in (404, 422)
    assert b"[project]" not in body and b"root:" not in body


def test_unknown_route_and_method(client: TestClient) -> None:
    missing = client.get("/api/nothing")
    assert missing.status_code == 404 and missing.json() == {"error": "not found"}
    assert client.delete("/api/runs", headers={"content-type": "application/json"}).status_code \
        == 405


def test_foreign_host_header_is_refused(client: TestClient) -> None:
    assert client.get("/api/scenarios", headers={"host": "evil.example"}).status_code == 400


def test_no_interactive_docs(client: TestClient) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404


# --- scenarios and levers ----------------------------------------------------------------------


def test_scenarios_list_every_bundled_one_with_defaults(client: TestClient) -> None:
    data = client.get("/api/scenarios").json()
    by_name = {s["name"]: s for s in data["scenarios"]}
    assert set(by_name) == set(bundled_names_of("2024"))
    mp = by_name["mp-dod-2025"]
    assert mp["defaults"]["price_floor_usd_per_kg"] == 110
    assert mp["defaults"]["offtake_share"] == 1.0
    assert mp["targets"]["price_floor"] == "dod_mp_ndpr_floor"
    heavy = by_name["heavy-ban"]
    assert heavy["defaults"]["export_control"]["policy"] == "chn_heavy_ban"
    assert heavy["defaults"]["export_control"]["elements"] == ["Tb", "Dy"]
    assert set(heavy["targets"]["export_controls"]) == {"chn_controls_2025_04", "chn_heavy_ban"}
    assert by_name["baseline"]["defaults"]["export_control"]["enabled"] is False
    assert by_name["slow-rebuild"]["defaults"]["delay_announced_years"] == 4
    assert data["bounds"]["elements"][:3] == ["Sc", "Y", "La"]


@pytest.mark.parametrize("name", bundled_names_of("2024"))
def test_default_levers_leave_every_scenario_unchanged(world: World, name: str) -> None:
    scenario = load_scenario(name, world)
    derived = derive_scenario(scenario, lever_defaults(scenario), world)
    assert derived.scenario is scenario and derived.changes == ()


def test_levers_edit_the_scenarios_own_policies(world: World) -> None:
    heavy = load_scenario("heavy-ban", world)
    lever = ExportControlLever(policy="chn_heavy_ban", start=dt.date(2027, 1, 1),
                               elements=("Dy",), mode="licence", approval_share=0.25)
    derived = derive_scenario(heavy, Levers(export_control=lever), world).scenario
    assert derived.name == "heavy-ban-dashboard"
    assert derived.lineage[:2] == ("heavy-ban-dashboard", "heavy-ban")
    edited = derived.policy("chn_heavy_ban")
    assert isinstance(edited, ExportControl)
    assert (edited.start, edited.elements, edited.mode, edited.approval_share) == (
        dt.date(2027, 1, 1), ("Dy",), "licence", 0.25)
    assert len(derived.policies) == len(heavy.policies)

    mp = load_scenario("mp-dod-2025", world)
    cheaper = derive_scenario(mp, Levers(price_floor_usd_per_kg=80), world).scenario
    assert cheaper.policies_of(PriceFloor)[0].floor_usd_per_kg == 80
    without = derive_scenario(mp, Levers(price_floor_usd_per_kg=0, offtake_share=0), world)
    assert not without.scenario.policies_of(PriceFloor)
    assert "dod_mp_10x_offtake" not in {p.id for p in without.scenario.policies}

    crma = load_scenario("crma-2030", world)
    later = derive_scenario(crma, Levers(recycling_share=0.3, recycling_by_year=2035), world)
    target = later.scenario.policy("eu_crma_recycling_benchmark")
    assert isinstance(target, RecyclingTarget)
    assert (target.share, target.by_year, target.enforcement) == (0.3, 2035, "benchmark")


def test_levers_add_documented_policies_where_the_scenario_has_none(world: World) -> None:
    baseline = load_scenario("baseline", world)
    levers = Levers(
        export_control=ExportControlLever(start=dt.date(2026, 1, 1), elements=("Tb", "Dy")),
        price_floor_usd_per_kg=150, offtake_share=0.5, recycling_share=0.2,
        recycling_by_year=2032, delay_announced_years=3,
    )
    derived = derive_scenario(baseline, levers, world)
    ids = {p.id for p in derived.scenario.policies}
    assert {terms["id"] for terms in NEW_POLICY_TERMS.values()} <= ids
    assert derived.scenario.overrides.delay_years_by_status == {"announced": 3}
    assert len(derived.changes) == 5
    assert derived.scenario.to_yaml()  # serialisable: it is stored with the run


def test_switching_off_a_control_drops_it_from_timing_uncertainty(world: World) -> None:
    suspension = load_scenario("suspension-2025-11", world)
    lever = ExportControlLever(policy="chn_controls_2025_10_deminimis", enabled=False,
                               start=dt.date(2026, 1, 1), elements=("Dy",))
    derived = derive_scenario(suspension, Levers(export_control=lever), world).scenario
    assert "chn_controls_2025_10_deminimis" not in {p.id for p in derived.policies}
    timing = derived.uncertainty.policy_timing["october_measures_return"]
    assert timing.policies == ("chn_controls_2025_10_elements", "chn_controls_2025_10_technology")


def test_unknown_control_is_a_lever_error(world: World) -> None:
    lever = ExportControlLever(policy="no_such_policy", start=dt.date(2026, 1, 1),
                               elements=("Dy",))
    with pytest.raises(LeverError, match="chn_controls_2025_04"):
        derive_scenario(load_scenario("heavy-ban", world), Levers(export_control=lever), world)


# --- request validation ------------------------------------------------------------------------


def post_run(client: TestClient, body: Any) -> Any:
    return client.post("/api/runs", json=body)


@pytest.mark.parametrize(("body", "where"), [
    ({"scenario": "baseline", "levers": {"offtake_share": 1.5}}, "offtake_share"),
    ({"scenario": "baseline", "levers": {"price_floor_usd_per_kg": -1}}, "price_floor"),
    ({"scenario": "baseline", "levers": {"price_floor_usd_per_kg": 1e9}}, "price_floor"),
    ({"scenario": "baseline", "levers": {"delay_announced_years": 99}}, "delay_announced"),
    ({"scenario": "baseline", "levers": {"recycling_by_year": 1900}}, "recycling_by_year"),
    ({"scenario": "baseline", "levers": {"code": "__import__('os').system('id')"}}, "code"),
    ({"scenario": "baseline", "path": "/etc/passwd"}, "path"),
    ({"scenario": "baseline", "years": {"start": 2030, "end": 2025}}, "before"),
    ({"scenario": "baseline", "years": {"start": 1990, "end": 2025}}, "years.start"),
    ({"scenario": "baseline", "years": {"start": 2024, "end": 2099}}, "years.end"),
    ({"scenario": "../../etc/passwd"}, "scenario"),
    ({"scenario": "baseline.yaml"}, "scenario"),
    ({"scenario": "x" * 100}, "scenario"),
    ({"scenario": 42}, "scenario"),
    ({}, "scenario"),
    ([], "body"),
    ({"scenario": "baseline", "levers": {"export_control": {
        "start": "2026-01-01", "elements": ["Xx"]}}}, "elements"),
    ({"scenario": "baseline", "levers": {"export_control": {
        "start": "2026-01-01", "elements": []}}}, "elements"),
    ({"scenario": "baseline", "levers": {"export_control": {
        "start": "2026-01-01", "elements": ["Dy", "Dy"]}}}, "twice"),
    ({"scenario": "baseline", "levers": {"export_control": {
        "start": "2026-01-01", "end": "2025-01-01", "elements": ["Dy"]}}}, "before"),
    ({"scenario": "baseline", "levers": {"export_control": {
        "start": "1066-10-14", "elements": ["Dy"]}}}, "start"),
    ({"scenario": "baseline", "levers": {"export_control": {
        "policy": "../x", "start": "2026-01-01", "elements": ["Dy"]}}}, "policy"),
])
def test_invalid_requests_are_422_with_a_reason(
    client: TestClient, body: Any, where: str
) -> None:
    response = post_run(client, body)
    assert response.status_code == 422, response.text
    assert where in response.json()["error"]


def test_nan_is_rejected(client: TestClient) -> None:
    body = '{"scenario": "baseline", "levers": {"offtake_share": NaN}}'
    response = client.post("/api/runs", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "offtake_share" in response.json()["error"]


def test_lever_for_a_missing_policy_is_422_naming_the_real_ones(client: TestClient) -> None:
    response = post_run(client, {"scenario": "heavy-ban", "years": SHORT, "levers": {
        "export_control": {"policy": "made_up", "start": "2026-01-01", "elements": ["Dy"]}}})
    assert response.status_code == 422
    assert "chn_heavy_ban" in response.json()["error"]


def test_unknown_scenario_is_404_listing_the_known_ones(client: TestClient) -> None:
    response = post_run(client, {"scenario": "pyproject"})
    assert response.status_code == 404
    body = response.json()
    assert body["known"] == sorted(bundled_names_of("2024"))
    assert "baseline" in body["error"]


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post("/api/runs", content=b'{"scenario": "baseline",',
                           headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


def test_body_must_be_json(client: TestClient) -> None:
    form = client.post("/api/runs", data={"scenario": "baseline"})
    assert form.status_code == 415
    plain = client.post("/api/runs", content=b"scenario=baseline",
                        headers={"content-type": "text/plain"})
    assert plain.status_code == 415


def test_oversized_bodies_are_413(client: TestClient) -> None:
    padding = "x" * (70 * 1024)
    declared = client.post("/api/runs", json={"scenario": "baseline", "pad": padding})
    assert declared.status_code == 413
    assert "64 KiB" in declared.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count
        yield b'{"scenario": "baseline", "pad": "'
        for _ in range(80):
            yield b"y" * 1024
        yield b'"}'

    streamed = client.post("/api/runs", content=chunks(),
                           headers={"content-type": "application/json"})
    assert streamed.status_code == 413


@pytest.mark.parametrize(("path", "status"), [
    ("/api/runs/zzzz", 422),
    ("/api/runs/abc", 422),
    ("/api/runs/0123456789ab", 404),
    ("/api/compare?a=0123456789ab", 422),
    ("/api/compare?a=0123456789ab&b=../etc", 422),
    ("/api/compare?a=0123456789ab&b=ba9876543210", 404),
    ("/api/runs?limit=0", 422),
    ("/api/runs?limit=100000", 422),
])
def test_bad_run_references(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.json()["error"]


# --- real runs ---------------------------------------------------------------------------------


def test_run_returns_answers_headline_and_the_report_charts(
    two_runs: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    plain, _ = two_runs
    run = plain["run"]
    assert run["scenario"] == "baseline" and run["changes"] == []
    assert run["years"] == [2024, 2026] and plain["years"] == [2024, 2025, 2026]
    assert len(run["run_id"]) == 12
    assert set(plain["figures"]) == CHARTS
    for figure in plain["figures"].values():
        assert figure["data"], "every chart has at least one trace"
    questions = [row["question"] for row in plain["answers"]]
    assert "China share of separation 2026" in questions
    assert card(plain, "fiscal_cost")["value"] == 0


def test_headline_shows_shortfall_and_demand_response_apart(world: World) -> None:
    ds = empty_result([2026], world.region_ids, sectors=[s.id for s in world.sectors])
    put(ds, "shortfall", 3.0, region="USA", sector="defence")
    put(ds, "demand_response", 25.0, region="USA", sector="defence")
    cards = {c["key"]: c for c in headline(answers(ds, world), 2026)}
    short, response = cards["defence_shortfall"], cards["defence_demand_response"]
    assert (short["label"], short["value"]) == ("US defence magnet shortfall (2026)", 3.0)
    assert response["value"] == 25.0
    assert response["label"] == "US defence magnet demand given up to high prices (2026)"
    assert response["answer"] == "25 t magnet given up to prices above the reference"
    assert "shortfall" not in response["label"]


def test_a_lever_changes_the_scenario_and_the_numbers(
    two_runs: tuple[dict[str, Any], dict[str, Any]], store_dir: Path, world: World
) -> None:
    _, floored = two_runs
    run = floored["run"]
    assert run["scenario"] == "baseline-dashboard" and run["base_scenario"] == "baseline"
    assert run["levers"] == {"price_floor_usd_per_kg": 200}
    assert run["changes"] == ["new NdPr price floor 200 USD/kg"]
    assert card(floored, "fiscal_cost")["value"] > 0  # DoD pays the floor's gap in 2026
    with RunStore(store_dir, read_only=True) as store:
        text = store.get_run(run["run_id"]).scenario_text
    assert "dashboard_price_floor" in text


def test_stored_scenario_text_is_a_valid_scenario(
    two_runs: tuple[dict[str, Any], dict[str, Any]], store_dir: Path, world: World,
    tmp_path: Path,
) -> None:
    _, floored = two_runs
    with RunStore(store_dir, read_only=True) as store:
        text = store.get_run(floored["run"]["run_id"]).scenario_text
    path = tmp_path / "stored.yaml"
    path.write_text(text)
    floor = load_scenario(path, world).policy("dashboard_price_floor")
    assert isinstance(floor, PriceFloor) and floor.floor_usd_per_kg == 200


def test_past_runs_are_listed_newest_first(
    client: TestClient, two_runs: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    plain, floored = two_runs
    listed = client.get("/api/runs").json()
    ids = [run["run_id"] for run in listed["runs"]]
    assert ids.index(floored["run"]["run_id"]) < ids.index(plain["run"]["run_id"])
    assert all(run["openable"] for run in listed["runs"])


def test_reopen_gives_the_same_numbers(
    client: TestClient, two_runs: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, floored = two_runs
    run_id = floored["run"]["run_id"]
    reopened = client.get(f"/api/runs/{run_id}")
    assert reopened.status_code == 200
    view = reopened.json()
    assert view["answers"] == floored["answers"]
    assert view["figures"] == floored["figures"]
    assert client.get(f"/api/runs/{run_id[:6]}").json()["run"]["run_id"] == run_id
    earlier = client.get(f"/api/runs/{run_id}?year=2024")
    assert earlier.status_code == 200
    assert earlier.json()["figures"]["sankey"] != floored["figures"]["sankey"]
    outside = client.get(f"/api/runs/{run_id}?year=2030")
    assert outside.status_code == 422 and "2030" in outside.json()["error"]


def test_compare_two_runs(
    client: TestClient, two_runs: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    plain, floored = two_runs
    a, b = plain["run"]["run_id"], floored["run"]["run_id"]
    response = client.get(f"/api/compare?a={a}&b={b}")
    assert response.status_code == 200
    data = response.json()
    assert (data["a"]["run_id"], data["b"]["run_id"]) == (a, b)
    rows = {row["question"]: row for row in data["rows"]}
    fiscal = rows["Total fiscal cost 2024–2026"]
    assert fiscal["value_a"] == 0 and fiscal["value_b"] > 0
    assert fiscal["difference"] == pytest.approx(fiscal["value_b"] - fiscal["value_a"])
    assert json.dumps(data)  # no NaN left in the JSON


def test_an_ensemble_run_is_not_opened(client: TestClient, store_dir: Path) -> None:
    with RunStore(store_dir) as store:
        info = store.create_run("ensemble", "baseline", "name: baseline\n", "test", "0", 1, 4)
    response = client.get(f"/api/runs/{info.run_id}")
    assert response.status_code == 422
    assert "ensemble" in response.json()["error"]
    listed = {r["run_id"]: r for r in client.get("/api/runs").json()["runs"]}
    assert listed[info.run_id]["openable"] is False


def test_runs_beyond_the_limit_get_429_and_the_server_keeps_answering(
    client: TestClient,
) -> None:
    first: dict[str, Any] = {}

    def long_run() -> None:
        response = post_run(client, {"scenario": "baseline", "years": {"start": 2024,
                                                                       "end": 2040}})
        first["status"] = response.status_code

    worker = threading.Thread(target=long_run)
    worker.start()
    try:
        for _ in range(2000):  # wait until the run holds the only slot (max_active_runs=1)
            if client.get("/api/runs").json()["active_runs"] == 1 or not worker.is_alive():
                break
        assert worker.is_alive(), "the long run finished before the test could overlap it"
        refused = post_run(client, {"scenario": "baseline", "years": SHORT})
        assert refused.status_code == 429
        assert refused.headers["retry-after"]
        assert "already in progress" in refused.json()["error"]
        assert client.get("/api/scenarios").status_code == 200  # still responsive
    finally:
        worker.join()
    assert first["status"] == 201


# --- the command -------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.10", False), ("example.org", False),
])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serve_warns_loudly_off_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    started: list[tuple[str, int]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **_: started.append((host, port)))
    runner = CliRunner(env={"COLUMNS": "200"})
    local = runner.invoke(main, ["serve", "--store", str(tmp_path), "--port", "8123"])
    assert local.exit_code == 0, local.output
    assert "WARNING" not in local.output and "http://127.0.0.1:8123/" in local.output
    exposed = runner.invoke(main, ["serve", "--host", "0.0.0.0", "--allow-remote",
                                   "--store", str(tmp_path)])
    assert exposed.exit_code == 0, exposed.output
    assert "WARNING" in exposed.output and "no authentication" in exposed.output
    assert started == [("127.0.0.1", 8123), ("0.0.0.0", 8050)]


# --- words, background runs with progress and cancel, comparison over all years --------------


def test_scenarios_and_policies_have_human_titles(client: TestClient) -> None:
    scenarios = {s["name"]: s for s in client.get("/api/scenarios").json()["scenarios"]}
    assert scenarios["mp-dod-2025"]["title"] == "US Defense Department deal with MP Materials"
    for scenario in scenarios.values():
        assert scenario["title"] != scenario["name"] and "_" not in scenario["title"]
        for policy in scenario["policies"]:
            assert policy["id"] not in policy["title"] and "_" not in policy["title"]
    floor = next(p for p in scenarios["mp-dod-2025"]["policies"] if p["type"] == "price_floor")
    assert floor["title"].startswith("Price floor: ")


def test_answers_put_ids_and_usgs_codes_in_words(
    two_runs: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    plain, _ = two_runs
    assert plain["run"]["title"] == "Baseline: no new controls"
    labels = [row["label"] for row in plain["answers"]]
    assert "United States defence systems magnet shortfall 2026" in labels
    assert not any(row["answer"].startswith("E (") for row in plain["answers"])


def wait_for_job(client: TestClient, job_id: str, until: Any) -> dict[str, Any]:
    for _ in range(3000):
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if until(job):
            return job
        threading.Event().wait(0.05)
    raise AssertionError(f"job {job_id} never reached the state asked for: {job}")


def test_a_job_reports_each_year_and_ends_with_its_view(client: TestClient) -> None:
    started = client.post("/api/jobs", json={"scenario": "baseline", "years": SHORT})
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["state"] == "running" and job["total_years"] == 3
    done = wait_for_job(client, job["job_id"], lambda j: j["state"] != "running")
    assert done["state"] == "done" and done["done_years"] == 3
    run_id = done["view"]["run"]["run_id"]
    assert client.get(f"/api/runs/{run_id}").status_code == 200
    assert client.get("/api/jobs/0123456789abcdef").status_code == 404


def test_a_cancelled_job_stops_and_stores_nothing(client: TestClient, store_dir: Path) -> None:
    with RunStore(store_dir, read_only=True) as store:
        before = {info.run_id for info in store.list_runs()}
    started = client.post("/api/jobs", json={"scenario": "baseline",
                                             "years": {"start": 2024, "end": 2040}})
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    running = wait_for_job(client, job_id, lambda j: j["done_years"] >= 1)
    assert running["state"] == "running" and running["last_year"] >= 2024
    # Like every request that changes something, a cancel says it is JSON (a CSRF guard).
    cancelled = client.delete(f"/api/jobs/{job_id}", headers={"Content-Type": "application/json"})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelling"
    ended = wait_for_job(client, job_id, lambda j: j["state"] != "cancelling")
    assert ended["state"] == "cancelled" and ended["done_years"] < 17 and ended["view"] is None
    with RunStore(store_dir, read_only=True) as store:
        assert {info.run_id for info in store.list_runs()} == before
    assert client.get("/api/runs").json()["active_runs"] == 0  # the slot is free again


def test_compare_covers_every_year_with_series_for_charts(
    client: TestClient, two_runs: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    plain, floored = two_runs
    a, b = plain["run"]["run_id"], floored["run"]["run_id"]
    data = client.get(f"/api/compare?a={a}&b={b}").json()
    assert data["years"] == [2024, 2025, 2026]
    sections = {entry["section"] for entry in data["series"]}
    assert {"Prices", "Shortfalls", "Import reliance and stocks"} <= sections
    price = next(e for e in data["series"] if e["metric"] == "NdPr oxide price outside china")
    assert price["years"] == [2024, 2025, 2026] and price["label"].endswith("outside China")
    diffs = [y - x for x, y in zip(price["a"], price["b"], strict=True)]
    assert price["difference"] == pytest.approx(diffs)


def test_compare_csv_matches_the_run_store(
    client: TestClient, two_runs: tuple[dict[str, Any], dict[str, Any]], store_dir: Path,
    world: World,
) -> None:
    import csv
    import io

    import pandas as pd

    from rareflow.metrics import compare

    plain, floored = two_runs
    a, b = plain["run"]["run_id"], floored["run"]["run_id"]
    response = client.get(f"/api/compare.csv?a={a}&b={b}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f"rareflow-compare-{a}-{b}.csv" in response.headers["content-disposition"]
    lines = response.text.splitlines()
    assert lines[:2] == [f"# A = run {a}", f"# B = run {b}"]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[2:]))))
    with RunStore(store_dir, read_only=True) as store:
        expected = compare(store.load_result(a), store.load_result(b), world,
                           labels=("a", "b"), years=[2024, 2025, 2026])
    assert [row["question"] for row in rows] == list(expected["question"])
    for row, (_, want) in zip(rows, expected.iterrows(), strict=True):
        for column in ("value_a", "value_b", "difference"):
            if pd.isna(want[column]):
                assert row[column] == ""
            else:
                assert float(row[column]) == pytest.approx(float(want[column]), rel=1e-9)


def test_the_sankey_can_show_one_element(
    client: TestClient, two_runs: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    plain, _ = two_runs
    run_id = plain["run"]["run_id"]
    assert "Dy" in plain["elements"] and "NdPr" in plain["elements"]
    all_title = plain["figures"]["sankey"]["layout"]["title"]["text"]
    dy = client.get(f"/api/runs/{run_id}?element=Dy")
    assert dy.status_code == 200, dy.text
    sankey = dy.json()["figures"]["sankey"]
    assert "Dy only" in sankey["layout"]["title"]["text"] and "all elements" in all_title
    total = sum(plain["figures"]["sankey"]["data"][0]["link"]["value"])
    assert 0 < sum(sankey["data"][0]["link"]["value"]) < total
    assert dy.json()["figures"]["prices"] == plain["figures"]["prices"]
    unknown = client.get(f"/api/runs/{run_id}?element=Xx")
    assert unknown.status_code == 422 and "no element 'Xx'" in unknown.json()["error"]
