"""Mass-balance assertions shared by the engine tests."""

from __future__ import annotations

import xarray as xr

from rareflow.engine.balance import balance_residuals, transformation_losses


def assert_balances_close(result: xr.Dataset) -> None:
    """Every node balances and no transformation creates material (within 1e-6 of the scale)."""
    scale = max(1.0, float(result.production.max()))
    for node, residual in balance_residuals(result).items():
        worst = float(abs(residual).max())
        assert worst <= 1e-6 * scale, f"{node} balance off by {worst} t"
    for step, loss in transformation_losses(result).items():
        assert float(loss.min()) >= -1e-6 * scale, f"{step} creates material"
