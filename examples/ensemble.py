# %% [markdown]
# # An ensemble: fan charts and P(self-sufficient by year)
#
# `slow-rebuild` declares uncertain project delays, ramp-ups and demand growth. Eight draws
# keep this quick (use hundreds for real answers); each draw depends only on the seed and its
# number, so the same call gives the same draws anywhere.

# %%
import os
import tempfile
from pathlib import Path

os.environ.setdefault("RAREFLOW_STORE", str(Path(tempfile.mkdtemp()) / "store"))
store_dir = Path(os.environ["RAREFLOW_STORE"])

# %% [markdown]
# Without `scheduler`, `run_ensemble` starts a local Dask cluster with one worker process per
# core. Here a small in-process cluster keeps the example light; any Dask scheduler address
# works the same way (e.g. `tcp://scheduler.example:8786`, whose workers must see the same
# data and store folder).

# %%
from distributed import LocalCluster

from rareflow.runs.ensemble import ensemble_summary, run_ensemble

with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                  dashboard_address=None) as cluster:
    outcome = run_ensemble("slow-rebuild", draws=8, seed=7, years=range(2024, 2031),
                           store_dir=store_dir, scheduler=cluster.scheduler_address)
print("run", outcome.run_id, "- draws run:", outcome.ran, "- failed:", len(outcome.failures))

# %% [markdown]
# The summary holds fans (series × percentile × year) and the probability of
# self-sufficiency (≥ 90 % of demand from domestic and allied supply, and staying there) by
# target and year.

# %%
from rareflow.store import RunStore

with RunStore(store_dir) as store:
    summary = ensemble_summary(store, outcome.run_id)
summary.sufficiency_probability.to_pandas()

# %%
from rareflow.report import ensemble_figures

figures = ensemble_figures(summary)
list(figures)

# %%
figures["sufficiency"]

# %% [markdown]
# A fan chart: separated Dy oxide outside China, median and the 25–75 and 5–95 percentile bands.

# %%
figures["fan-dy-oxide-price-outside-china"]
