"""Series values as plotted: JSON-safe and free of solver noise."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import xarray as xr

#: Values smaller than this (t, USD/kg, %) are solver noise and drawn as 0.
NOISE_FLOOR = 1e-6
#: Significant digits kept, relative to the largest value of the series.
DIGITS = 6


def plot_values(values: xr.DataArray | Iterable[float]) -> list[float | None]:
    """A 1-D series as a list for Plotly: NaN → None (a gap), noise → 0, 6 significant digits.

    Rounding is relative to the series' largest magnitude, so a constant 810 USD/kg does not
    show as 810.0000000000018 and a shortfall of 1e-13 t does not get an axis of femtotonnes.
    """
    raw = values.values if isinstance(values, xr.DataArray) else list(values)
    array = np.asarray(raw, dtype=float).ravel()
    array = np.where(np.abs(array) < NOISE_FLOOR, 0.0, array)
    finite = array[np.isfinite(array)]
    scale = float(np.abs(finite).max()) if finite.size else 0.0
    if scale > 0:
        array = np.round(array, DIGITS - math.ceil(math.log10(scale)))
    return [float(v) if math.isfinite(v) else None for v in array]
