"""rareflow.runs.ensemble: uncertainty ensembles on Dask, streamed to the run store and resumable.

>>> outcome = run_ensemble("slow-rebuild", draws=200, seed=7)
>>> summary = ensemble_summary(RunStore(), outcome.run_id)   # fans and self-sufficiency odds
"""

from rareflow.runs.ensemble.driver import EnsembleOutcome, EnsembleProgress, run_ensemble
from rareflow.runs.ensemble.sampling import Draw, apply_draw, draw_values
from rareflow.runs.ensemble.summary import ensemble_summary

__all__ = [
    "Draw",
    "EnsembleOutcome",
    "EnsembleProgress",
    "apply_draw",
    "draw_values",
    "ensemble_summary",
    "run_ensemble",
]
