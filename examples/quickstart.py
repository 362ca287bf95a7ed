# %% [markdown]
# # Quick start
#
# Run a bundled scenario, read its prices and answers, and draw its charts inline.
# Runs go to a temporary run store, so this notebook leaves nothing behind.

# %%
import os
import tempfile
from pathlib import Path

os.environ.setdefault("RAREFLOW_STORE", str(Path(tempfile.mkdtemp()) / "store"))
store_dir = Path(os.environ["RAREFLOW_STORE"])

# %% [markdown]
# `run_scenario` does what `rareflow run` does: load the world and the scenario, simulate it
# year by year, and (with `store_dir`) store the result. A few years keep this quick; the
# bundled scenarios run 2024–2040 by default.

# %%
from rareflow.runs import run_scenario

outcome = run_scenario("controls-2025-october", years=range(2024, 2028), store_dir=store_dir)
result = outcome.result
print("stored as run", outcome.run_id)
result

# %% [markdown]
# Prices are duals of the market's balance constraints, by stage, region, element and origin
# (USD/kg). Separated Dy oxide, China-origin and other, in the US and in China:

# %%
result.price.sel(stage="separation", element="Dy", region=["USA", "CHN"]).to_dataframe(
    name="USD/kg"
).unstack(["region", "origin"]).round(1)

# %% [markdown]
# `rareflow.metrics` answers the questions; `answers` is the table `rareflow run` prints.

# %%
from rareflow import metrics

metrics.prices(result, stage="separation", element="NdPr").to_pandas().round(1)

# %%
metrics.shortfall(result, ["USA"]).to_pandas().round(1)

# %%
metrics.answers(result, outcome.world).head(12)

# %% [markdown]
# `result_figures` returns the report's Plotly figures; a figure as the last expression of a
# cell shows inline.

# %%
from rareflow.report import result_figures

figures = result_figures(result, outcome.world)
list(figures)

# %%
figures["prices"]
