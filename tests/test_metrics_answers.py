import json
import math

import pandas as pd
import pytest

from rareflow.metrics import Groups, answers, compare, key_series, to_csv, to_json
from rareflow.metrics.compare import SECTIONS, question_fields, relative_change, section_of
from rareflow.metrics.definitions import DEF_EMBEDDED, DEF_USGS
from rareflow.model.market import Provenance, TradeCosts
from rareflow.model.regions import Region
from rareflow.model.sectors import MagnetGrade, Sector
from rareflow.model.world import World
from rareflow.testing import empty_result, put, ship

REGIONS = ["CHN", "USA", "JPN", "AUS", "DEU", "FRA"]
GROUPS = Groups(china="CHN", groups={"allies": ["USA", "JPN", "AUS"], "EU": ["DEU", "FRA"]})


def run():
    ds = empty_result([2026, 2030], REGIONS, instruments=["ndpr_floor", "offtake_10x"])
    magnet = {"stage": "magnet", "element": "NdPr"}
    put(ds, "production", 10.0, year=2026, region="USA", origin="other", **magnet)
    put(ds, "production", 95.0, year=2030, region="USA", origin="other", **magnet)
    put(ds, "consumption", 100.0, region="USA", **magnet)
    ship(ds, "magnet", "JPN", "USA", 80.0, year=2026)
    put(ds, "magnet_production", 100.0, region="USA", grade="n42", origin="other")
    put(ds, "magnet_production", 100.0, region="CHN", grade="n42", origin="china")
    put(ds, "magnet_trade", 25.0, year=2026, exporter="CHN", importer="USA", grade="n42")
    put(ds, "shortfall", 12.0, year=2026, region="USA", sector="defence")
    put(ds, "demand_response", 40.0, year=2026, region="USA", sector="defence")
    put(ds, "demand_response", -3.0, year=2030, region="USA", sector="defence")
    sep = {"stage": "separation", "element": "NdPr"}
    put(ds, "production", 90.0, region="CHN", origin="china", **sep)
    put(ds, "production", 10.0, region="AUS", origin="other", **sep)
    put(ds, "consumption", 20.0, region="USA", **sep)
    put(ds, "consumption", 50.0, region="DEU", **sep)
    ship(ds, "oxide", "CHN", "USA", 20.0, origin="china")
    ship(ds, "oxide", "CHN", "DEU", 40.0, origin="china")
    ship(ds, "oxide", "AUS", "DEU", 10.0)
    put(ds, "recycled", 2.0, region="USA", element="NdPr")
    put(ds, "stockpile_level", 5.0, region="USA", element="Dy")
    put(ds, "consumption", 30.0, stage="separation", region="USA", element="Dy")
    ship(ds, "oxide", "CHN", "USA", 30.0, element="Dy", origin="china")
    put(ds, "price", 60.0, region="CHN", origin="china", **sep)
    put(ds, "price", 110.0, region="USA", **sep)  # both origins: USA and DEU get China-origin
    put(ds, "price", 100.0, region="DEU", **sep)
    put(ds, "fiscal_cost", 10.0, instrument="ndpr_floor")
    put(ds, "fiscal_cost", 3.0, year=2030, instrument="offtake_10x")
    put(ds, "surplus", 1234.0)
    return ds


def row(table, question):
    hits = table[table["question"] == question]
    assert len(hits) == 1, f"{question!r} not found once in {table['question'].tolist()}"
    return hits.iloc[0]


def test_answers_table_layout():
    table = answers(run(), GROUPS)
    assert list(table.columns) == ["question", "answer", "value", "unit", "definition"]
    assert table["question"].is_unique
    assert len(table) > 20


def test_self_sufficiency_answers():
    table = answers(run(), GROUPS)
    domestic = row(table, "USA NdPr magnets: first year self-sufficient (≥ 90 % domestic)")
    assert domestic["answer"] == "self-sufficient from 2030"
    assert domestic["value"] == 2030
    allied = row(table, "USA NdPr magnets: first year self-sufficient (≥ 90 % domestic+allied)")
    assert allied["answer"] == "self-sufficient from 2026"
    never = answers(run(), GROUPS, threshold=0.99)
    r = row(never, "USA NdPr magnets: first year self-sufficient (≥ 99 % domestic)")
    assert r["answer"] == "not self-sufficient"
    assert math.isnan(r["value"])


def test_year_answers():
    table = answers(run(), GROUPS)
    short = row(table, "USA defence magnet shortfall 2026")
    assert (short["answer"], short["value"], short["unit"]) == ("12 t magnet", 12.0, "t magnet")
    assert row(table, "USA defence magnet shortfall 2030")["answer"] == "0 t magnet"
    assert row(table, "China share of separation 2030")["answer"] == "90 %"
    assert row(table, "HHI of separation 2030")["value"] == pytest.approx(8200.0)
    assert row(table, "HHI of separation 2030")["answer"] == "8,200"
    # USA NIR for oxide, all elements: imports 20, production 0 -> 100 %
    assert row(table, "USA import reliance for oxide 2026")["answer"] == "100 %"
    # magnets (REO content): 2026 imports 80 from JPN, production 10; 2030 none imported
    assert row(table, "USA import reliance for magnets 2026")["answer"] == "89 %"
    assert row(table, "USA import reliance for magnets 2030")["answer"] == "0 %"
    assert row(table, "USA magnets that may contain China-origin material 2026")["value"] == (
        pytest.approx(100 * 25.0 / 125.0)
    )
    assert row(table, "USA recycled share of oxide consumption 2030")["value"] == pytest.approx(
        100 * 2.0 / 50.0
    )
    assert row(table, "USA Dy stockpile cover 2030")["answer"] == "2.0 months"
    assert row(table, "USA Dy stockpile cover 2030")["definition"].startswith("year-end stock")
    # compounds and metals (USGS scope): oxide 20 NdPr + 30 Dy imported, nothing made -> 100 %
    usgs = row(table, "USA import reliance for compounds and metals 2026")
    assert (usgs["answer"], usgs["definition"]) == ("100 %", DEF_USGS)
    # embedded NdPr 2026: oxide 20 + magnet content 80 imported, no oxide made -> 100 %
    embedded = row(table, "USA embedded import reliance for NdPr 2026")
    assert (embedded["value"], embedded["definition"]) == (pytest.approx(100.0), DEF_EMBEDDED)
    assert row(table, "USA China-origin net imports of embedded NdPr 2026")["value"] == (
        pytest.approx(100 * 20.0 / 100.0))
    assert row(table, "EU embedded import reliance for NdPr 2030")["answer"] == "100 %"
    goal = row(table, "USA target: net import reliance < 50 % by 2030 2030")
    assert goal["answer"].startswith("missed (100 %")
    assert goal["definition"] == DEF_USGS
    assert row(table, "EU target: CRMA processing ≥ 40 % 2030")["answer"].startswith("missed")
    assert (table["definition"] != "").all()
    assert row(table, "NdPr oxide price inside china 2030")["value"] == 60.0
    # weights USA 20 at 110, DEU 50 at 100: 7200 / 70
    assert row(table, "NdPr oxide price outside china 2030")["answer"] == "102.9 USD/kg"
    crma = row(table, "EU largest single third-country share of separation 2030")
    assert crma["answer"] == "80 % (CHN; above the 65 % cap; then AUS 20 %)"


def test_fiscal_answers():
    table = answers(run(), GROUPS)
    assert row(table, "Fiscal cost of ndpr_floor 2026–2030")["answer"] == "$20 M"
    assert row(table, "Total fiscal cost 2026–2030")["value"] == 23.0
    window = answers(run(), GROUPS, fiscal_period=(2025, 2029))
    assert row(window, "Fiscal cost of ndpr_floor 2025–2029")["value"] == 10.0


def test_net_exporter_is_reported_as_E():
    ds = run()
    put(ds, "production", 500.0, stage="separation", region="USA", origin="other",
        element="NdPr")
    ship(ds, "oxide", "USA", "DEU", 400.0)
    table = answers(ds, GROUPS, years=[2030])
    assert row(table, "USA import reliance for oxide 2030")["answer"] == "E (net exporter)"
    assert row(table, "USA import reliance for oxide 2030")["value"] < 0


def test_answers_skip_what_the_data_lacks():
    table = answers(run(), Groups(china="CHN"), region="BRA", years=[2030])
    questions = table["question"].tolist()
    assert not any(q.startswith("BRA") for q in questions)
    assert "China share of separation 2030" in questions
    assert not any(q.startswith("EU") for q in questions)


def test_answers_reject_ensembles():
    with pytest.raises(ValueError, match="one run"):
        answers(empty_result([2030], REGIONS, draws=2), GROUPS)


def test_answers_with_a_world_give_dy_content_of_the_defence_shortfall():
    note = {"assumption": "test"}
    world = World(
        provenance=Provenance(name="t", version="0", base_year=2026),
        regions=tuple(
            Region(id=r, name=r, is_china=r == "CHN",
                   groups=("allies",) if r in ("USA", "JPN", "AUS") else (), **note)
            for r in REGIONS
        ),
        deposits=(),
        facilities=(),
        magnet_grades=(
            MagnetGrade(id="sh", name="SH", family="ndfeb",
                        content_kg_reo_per_t={"NdPr": 290.0, "Dy": 40.0}, **note),
            MagnetGrade(id="n42", name="N42", family="ndfeb",
                        content_kg_reo_per_t={"NdPr": 310.0}, **note),
        ),
        sectors=(
            Sector(id="defence", name="Defence", kind="magnet", magnet_mix={"sh": 0.5, "n42": 0.5},
                   elasticity=0.3, reference_price_usd_per_kg=500.0, **note),
        ),
        demand=(),
        trade=TradeCosts(transport_usd_per_kg={}, **note),
    )
    table = answers(run(), world)
    dy = row(table, "USA defence Dy shortfall 2026")
    assert dy["value"] == pytest.approx(12.0 * 0.5 * 40.0 / 1000.0)
    assert dy["unit"] == "t REO"
    assert row(table, "USA NdPr magnets: first year self-sufficient (≥ 90 % domestic+allied)")[
        "value"
    ] == 2026


def test_key_series():
    series = key_series(run(), [2030, 2040])
    assert list(series.columns) == ["question", "value", "unit"]
    assert row(series, "World separation production 2030")["value"] == 100.0
    assert row(series, "World shortfall, defence 2030")["value"] == 0.0
    assert row(series, "World demand response, defence 2030")["value"] == -3.0
    assert row(series, "World demand response, ev 2030")["unit"] == "t (magnet t or t REO)"
    assert row(series, "Total surplus 2030")["value"] == 1234.0
    assert not series["question"].str.endswith("2040").any()


def test_compare_shows_differences():
    a, b = run(), run()
    put(b, "shortfall", 30.0, year=2026, region="USA", sector="defence")
    put(b, "fiscal_cost", 0.0, instrument="ndpr_floor")
    table = compare(a, b, GROUPS, labels=("base", "ban"))
    assert list(table.columns) == [
        "section", "question", "metric", "region", "year", "period", "unit", "definition",
        "value_base",
        "value_ban", "difference", "change_pct", "answer_base", "answer_ban",
    ]
    assert table["question"].is_unique
    short = row(table, "USA defence magnet shortfall 2026")
    assert (short["value_base"], short["value_ban"], short["difference"]) == (12.0, 30.0, 18.0)
    assert short["change_pct"] == 150.0
    assert short["section"] == "Shortfalls"
    assert (short["metric"], short["region"], short["year"], short["period"]) == (
        "defence magnet shortfall", "USA", 2026, None)
    assert short["answer_ban"] == "30 t magnet"
    total = row(table, "Total fiscal cost 2026–2030")
    assert (total["difference"], total["section"]) == (-20.0, "Fiscal cost")
    assert (total["metric"], total["year"], total["period"]) == ("Total fiscal cost", None,
                                                                 "2026–2030")
    assert row(table, "World shortfall, defence 2026")["difference"] == 18.0
    response = row(table, "USA defence magnet demand response 2026")
    assert (response["value_base"], response["difference"]) == (40.0, 0.0)
    assert response["section"] == "Demand response"
    assert response["metric"] == "defence magnet demand response"
    assert response["answer_base"] == "40 t magnet given up to prices above the reference"
    assert row(table, "USA defence magnet demand response 2030")["answer_base"] == (
        "3 t magnet more used at prices below the reference")
    assert row(table, "World demand response, defence 2026")["section"] == "Demand response"
    china = row(table, "China share of separation 2030")
    assert china["difference"] == 0.0
    assert (china["metric"], china["region"], china["year"]) == ("share of separation", "CHN",
                                                                 2030)
    assert math.isnan(china["change_pct"])  # percentages change in points, not percent


def test_compare_groups_rows_by_section_and_metric():
    table = compare(run(), run(), GROUPS)
    sections = table["section"].tolist()
    order = [s for i, s in enumerate(sections) if i == 0 or sections[i - 1] != s]
    assert order == [s for s in SECTIONS if s in set(sections)]  # each section one block
    assert "Other" not in sections
    assert order[:3] == ["Prices", "Shortfalls", "Demand response"]
    questions = table["question"].tolist()
    shortfalls = [q for q in questions if section_of(q) == "Shortfalls"]
    assert shortfalls[:2] == ["USA defence magnet shortfall 2026",
                              "USA defence magnet shortfall 2030"]
    world = [q for q in shortfalls if q.startswith("World")]
    assert world[:2] == ["World shortfall, defence 2026", "World shortfall, defence 2030"]
    assert not any("demand response" in q for q in shortfalls)
    dy = row(table, "Dy oxide price outside china 2030")
    assert (dy["section"], dy["unit"]) == ("Prices", "USD/kg")
    assert section_of("Fiscal cost of us_ndpr_price_floor 2024–2040") == "Fiscal cost"
    assert section_of("usa_recycling policy shortfall 2030") == "Other"  # not unserved demand


def test_question_fields():
    regions, china = {"USA", "EU"}, "CHN"
    assert question_fields("World shortfall, ev 2030", regions, china) == {
        "metric": "shortfall, ev", "region": "World", "year": 2030, "period": None}
    assert question_fields("EU largest single third-country share of separation 2026",
                           regions, china)["region"] == "EU"
    assert question_fields("Dy oxide price outside china 2026", regions, china) == {
        "metric": "Dy oxide price outside china", "region": None, "year": 2026, "period": None}
    assert question_fields("HHI of magnet 2026", regions, china)["region"] == "World"
    first = question_fields("USA NdPr magnets: first year self-sufficient (≥ 90 % domestic)",
                            regions, china)
    assert (first["region"], first["year"], first["period"]) == ("USA", None, None)
    assert question_fields("Fiscal cost of floor 2024-2040", regions, china)["period"] == \
        "2024–2040"


def test_compare_rows_carry_their_question_parts():
    table = compare(run(), run(), GROUPS)
    for row_ in table.to_dict(orient="records"):
        assert row_["metric"] and row_["metric"] in row_["question"]
        when = row_["year"] if row_["year"] is not None else row_["period"]
        if when is not None:
            assert row_["question"].endswith(str(when))
        if row_["region"] not in (None, "World", "CHN"):
            assert row_["question"].startswith(f"{row_['region']} ")
    assert set(table["region"].dropna()) == {"USA", "EU", "World", "CHN"}


def test_relative_change():
    assert relative_change(50.0, 75.0, "USD/kg") == 50.0
    assert relative_change(-10.0, -5.0, "USD million") == 50.0
    assert math.isnan(relative_change(0.0, 5.0, "t REO"))
    assert math.isnan(relative_change(20.0, 30.0, "%"))
    assert math.isnan(relative_change(2030.0, 2032.0, "year"))
    assert math.isnan(relative_change(math.nan, 1.0, "t REO"))


def test_compare_keeps_rows_only_one_run_has():
    a = run()
    b = run().sel(year=[2030])
    table = compare(a, b, GROUPS, years=[2026, 2030])
    only_a = row(table, "USA defence magnet shortfall 2026")
    assert only_a["value_a"] == 12.0
    assert math.isnan(only_a["value_b"])
    with pytest.raises(ValueError, match="labels"):
        compare(a, b, labels=("x", "x"))


def test_compare_default_groups_and_no_shared_year():
    a = run()
    table = compare(a, a)
    assert (table["difference"].dropna() == 0).all()
    with pytest.raises(ValueError, match="share no year"):
        compare(a.sel(year=[2026]), a.sel(year=[2030]))


def test_writers_round_trip(tmp_path):
    table = compare(run(), run(), GROUPS)
    csv_path = to_csv(table, tmp_path / "cmp.csv")
    back = pd.read_csv(csv_path)
    assert back["question"].tolist() == table["question"].tolist()
    dy = back[back["question"] == "Dy oxide price outside china 2030"].iloc[0]
    assert (dy["metric"], dy["year"], dy["unit"]) == ("Dy oxide price outside china", 2030,
                                                      "USD/kg")
    assert pd.isna(dy["region"]) and pd.isna(dy["period"])  # empty where none applies
    json_path = to_json(table, tmp_path / "cmp.json")
    records = json.loads(json_path.read_text(encoding="utf-8"))
    assert len(records) == len(table)
    assert records[0].keys() == set(table.columns)
    assert any(r["answer_a"] is None for r in records)  # series rows: NaN -> null
    short = next(r for r in records if r["question"] == "USA defence magnet shortfall 2026")
    assert (short["metric"], short["region"], short["year"], short["period"]) == (
        "defence magnet shortfall", "USA", 2026, None)
