"""Running scenarios: one deterministic run or an uncertainty ensemble, each stored.

:func:`run_scenario` runs one scenario once; :func:`run_ensemble` runs many draws on Dask.

>>> outcome = run_scenario("baseline", store_dir=Path("rareflow-runs"))
>>> ensemble = run_ensemble("slow-rebuild", draws=200, seed=7)
"""

from rareflow.runs.ensemble import EnsembleOutcome, run_ensemble
from rareflow.runs.runner import RunOutcome, run_parsed_scenario, run_scenario

__all__ = ["EnsembleOutcome", "RunOutcome", "run_ensemble", "run_parsed_scenario", "run_scenario"]
