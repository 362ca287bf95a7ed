# %% [markdown]
# # Results in pandas, xarray and DuckDB
#
# A result is an `xarray.Dataset` (see the result contract); the run store keeps it as tidy
# Parquet files, one per variable and draw, and reads them back with DuckDB.

# %%
import os
import tempfile
from pathlib import Path

os.environ.setdefault("RAREFLOW_STORE", str(Path(tempfile.mkdtemp()) / "store"))
store_dir = Path(os.environ["RAREFLOW_STORE"])

from rareflow.runs import run_scenario

outcome = run_scenario("heavy-ban", years=range(2024, 2028), store_dir=store_dir)
run_id = outcome.run_id

# %% [markdown]
# ## xarray
#
# Every variable has named dims and a `units` attribute.

# %%
result = outcome.result
shortfall = result["shortfall"]
print(shortfall.dims, shortfall.attrs["units"])
shortfall.sum("region").to_pandas().round(1)

# %% [markdown]
# ## pandas
#
# `to_dataframe` gives a tidy table of every cell; `RunStore.load_variable` gives the same
# from the store (zero rows restored), with a `draw` column.

# %%
from rareflow.store import RunStore

store = RunStore(store_dir)
stored = store.load_variable(run_id, "shortfall")
stored.head()

# %%
dense = shortfall.to_dataframe().reset_index()
print(len(dense), "cells in memory,", len(stored), "rows from the store")
print("mean over every cell:", round(float(shortfall.mean()), 3),
      "| mean of the loaded rows:", round(stored["value"].mean(), 3))

# %% [markdown]
# ## DuckDB
#
# `RunStore.query` runs read-only SQL with the tables `runs` and `draws` and the macro
# `result(run_id, variable)`. **The Parquet files leave out the zero rows of float variables**:
# sums over stored rows are right, but counts and means are over the non-zero rows only. Divide
# by the number of cells (or use `load_variable`) for a mean over every cell:

# %%
sql = """
select avg(value) as mean_of_stored_rows,
       sum(value) / ? as mean_over_every_cell,
       count(*) as stored_rows
from result(?, 'shortfall')
"""
store.query(sql, [shortfall.size, run_id])

# %%
store.query("select run_id, kind, scenario_name, data_version, n_draws from runs")

# %% [markdown]
# Loading a stored run back as the same Dataset:

# %%
reloaded = store.load_result(run_id)
store.close()
reloaded["price"].equals(result["price"])  # equal values, NaN where NaN
