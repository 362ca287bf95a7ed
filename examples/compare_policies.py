# %% [markdown]
# # Compare two policies and plot prices
#
# The baseline against the October 2025 export controls, over the same years: the comparison
# table `rareflow compare` prints, and NdPr and Dy oxide prices of both runs in one chart.

# %%
import os
import tempfile
from pathlib import Path

os.environ.setdefault("RAREFLOW_STORE", str(Path(tempfile.mkdtemp()) / "store"))

# %%
from rareflow.runs import run_scenario

years = range(2024, 2028)
base = run_scenario("baseline", years=years)
controls = run_scenario("controls-2025-october", years=years)

# %% [markdown]
# `metrics.compare` joins the answers of both runs; `difference` is B − A.

# %%
from rareflow import metrics

table = metrics.compare(base.result, controls.result, base.world,
                        labels=("baseline", "controls"))
table[["section", "question", "value_baseline", "value_controls", "difference", "unit"]].head(15)

# %% [markdown]
# Oxide prices outside China (`other` origin, the US market) for both runs:

# %%
import pandas as pd
import plotly.express as px

frames = []
for label, outcome in (("baseline", base), ("October 2025 controls", controls)):
    price = outcome.result.price.sel(stage="separation", region="USA", origin="other",
                                     element=["NdPr", "Dy", "Tb"])
    frame = price.to_dataframe(name="usd_per_kg").reset_index()
    frame["scenario"] = label
    frames.append(frame)
prices = pd.concat(frames)
px.line(prices, x="year", y="usd_per_kg", color="element", line_dash="scenario",
        log_y=True, labels={"usd_per_kg": "USD/kg"},
        title="Separated oxide prices in the US (other origin)")
