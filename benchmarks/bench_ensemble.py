"""Ensemble targets (DESIGN §7), measured once ``rareflow.ensemble.run_ensemble`` exists.

* 1,000 draws × 17 years in under 2 minutes on 2 cores;
* throughput from 1 to 2 Dask workers grows ≥ 1.7×;
* peak memory does not grow with the number of draws: peak(1,000) / peak(200) < 1.2.

Until the ensemble runner is written these report SKIPPED with the reason.
"""

from __future__ import annotations

from _common import Target, header

DRAWS = 1000


def main() -> list[Target]:
    header("ensembles")
    try:
        from rareflow.ensemble import run_ensemble  # type: ignore[attr-defined]  # noqa: F401
    except ImportError as error:
        reason = f"rareflow.ensemble.run_ensemble is not available yet ({error})"
        print(reason)
        return [
            Target(f"ensemble_{DRAWS}_draws_x_17_years_seconds", None, 120.0, "s",
                   skipped=reason),
            Target("ensemble_dask_1_to_2_workers_speedup", None, 1.7, "x",
                   higher_is_better=True, skipped=reason),
            Target("ensemble_peak_memory_1000_vs_200_draws_ratio", None, 1.2, "",
                   skipped=reason),
        ]
    reason = ("rareflow.ensemble.run_ensemble exists but these benchmarks are not wired to "
              "its API yet")
    print(reason)
    return [
        Target(f"ensemble_{DRAWS}_draws_x_17_years_seconds", None, 120.0, "s", skipped=reason),
        Target("ensemble_dask_1_to_2_workers_speedup", None, 1.7, "x", higher_is_better=True,
               skipped=reason),
        Target("ensemble_peak_memory_1000_vs_200_draws_ratio", None, 1.2, "", skipped=reason),
    ]


if __name__ == "__main__":
    for target in main():
        print(target.line())
