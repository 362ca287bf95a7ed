"""The key series every ensemble draw carries, from a synthetic result (no solver)."""

from __future__ import annotations

import numpy as np

from rareflow.data.loader import load_world
from rareflow.runs.ensemble.series import USED_VARIABLES, key_series
from rareflow.testing import synthetic_result


def test_key_series_keep_shortfall_and_demand_response_apart() -> None:
    world = load_world()
    result = synthetic_result(2, regions=("CHN", "USA", "JPN"))
    series = key_series(result[list(USED_VARIABLES)], world)["key_series"]
    names = [str(name) for name in series["series"].values]
    assert not any("unmet" in name.lower() for name in names)
    outside = ["USA", "JPN"]
    for label, variable in (("Shortfall", "shortfall"), ("Demand response", "demand_response")):
        name = f"{label} outside China, defence"
        expected = result[variable].sel(sector="defence", region=outside).sum("region")
        np.testing.assert_allclose(series.sel(series=name), expected)
        assert str(series["unit"].sel(series=name).item()) == "t (magnet t or t REO)"
    assert names.index("Shortfall outside China, defence") < names.index(
        "Demand response outside China, defence")
