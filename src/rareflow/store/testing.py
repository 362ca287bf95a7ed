"""A synthetic result Dataset shaped like ``docs/results.md``, for store tests and examples.

It is random but deterministic per ``seed``, so each ensemble draw differs and can be checked.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

ELEMENTS = ("NdPr", "Dy", "Tb", "Sm", "La", "Ce", "Y", "other_heavy")
ORIGINS = ("china", "other")
STAGES = ("mining", "concentration", "separation", "metal", "magnet", "recycling")
PRODUCTS = ("concentrate", "oxide", "metal", "magnet")
SECTORS = ("ev", "wind", "electronics", "industrial_motors", "defence", "other")


def synthetic_result(
    seed: int = 0,
    *,
    years: Sequence[int] = (2024, 2025, 2026),
    regions: Sequence[str] = ("CHN", "USA", "AUS", "MYS", "ROW"),
    facilities: Sequence[str] = ("mountain_pass", "lynas_malaysia", "ten_x"),
    scenario: str = "baseline",
) -> xr.Dataset:
    """A result with production, trade, price, demand/unmet, facility and scalar-per-year vars."""
    rng = np.random.default_rng(seed)
    ny, nr, ne, no, ns = len(years), len(regions), len(ELEMENTS), len(ORIGINS), len(STAGES)
    coords = {
        "year": np.asarray(years, dtype=np.int64),
        "stage": list(STAGES),
        "region": list(regions),
        "element": list(ELEMENTS),
        "origin": list(ORIGINS),
        "product": list(PRODUCTS),
        "exporter": list(regions),
        "importer": list(regions),
        "sector": list(SECTORS),
        "facility": list(facilities),
        "instrument": ["price_floor_ndpr"],
    }
    demand = rng.uniform(10, 100, (ny, nr, len(SECTORS)))
    served = demand * rng.uniform(0.5, 1.0, demand.shape)
    substituted = (demand - served) * rng.uniform(0, 0.5, demand.shape)
    sector_dims = ("year", "region", "sector")
    ds = xr.Dataset(
        {
            "production": (
                ("year", "stage", "region", "element", "origin"),
                rng.uniform(0, 1000, (ny, ns, nr, ne, no)),
                {"units": "t REO"},
            ),
            "trade": (
                ("year", "product", "exporter", "importer", "element", "origin"),
                rng.uniform(0, 50, (ny, len(PRODUCTS), nr, nr, ne, no)),
                {"units": "t REO"},
            ),
            "price": (
                ("year", "stage", "region", "element", "origin"),
                rng.uniform(5, 900, (ny, ns, nr, ne, no)),
                {"units": "USD/kg"},
            ),
            "facility_output": (
                ("year", "facility"),
                rng.uniform(0, 10_000, (ny, len(facilities))),
                {"units": "t/y"},
            ),
            "demand": (sector_dims, demand, {"units": "t"}),
            "served": (sector_dims, served, {"units": "t"}),
            "substituted": (sector_dims, substituted, {"units": "t"}),
            "unmet": (sector_dims, demand - served - substituted, {"units": "t"}),
            "fiscal_cost": (
                ("year", "instrument"),
                rng.uniform(0, 300, (ny, 1)),
                {"units": "USD million"},
            ),
            "surplus": (("year",), rng.uniform(1e3, 1e4, ny), {"units": "USD million"}),
        },
        coords=coords,
        attrs={
            "scenario": scenario,
            "data_version": "world-2025.11",
            "code_version": "0.1.0",
            "seed": int(seed),
        },
    )
    return ds
