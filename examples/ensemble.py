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

# %%
from rareflow.runs.ensemble import ensemble_summary, run_ensemble

outcome = run_ensemble("slow-rebuild", draws=8, seed=7, years=range(2024, 2031),
                       store_dir=store_dir, workers=2)
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

# %%
figures[next(key for key in figures if key.startswith("fan-"))]
