"""Mass-balance checks on a result dataset, independent of the LP's own rows.

Each check recomputes a node's balance from reported flows (production, trade, use, stocks)
and returns the residual in t REO; a correct solution has residuals of zero (to solver
tolerance) in every year, region and element.
"""

from __future__ import annotations

import xarray as xr


def _net_imports(ds: xr.Dataset, product: str) -> xr.DataArray:
    trade = ds.trade.sel(product=product).sum("origin")
    imports = trade.sum("exporter").rename(importer="region")
    exports = trade.sum("importer").rename(exporter="region")
    net: xr.DataArray = imports - exports
    return net


def balance_residuals(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """Residual (inflow − outflow, t REO) of every node type, by year, region and element.

    * ore: mined = ore concentrated;
    * concentrate: produced + net imports = separated + stored;
    * oxide: separated + recycled + net imports + stockpile release + inventory release
      = used + disposed;
    * metal: reduced + net imports = used by magnet plants;
    * magnets (REO content): made + net imports = used by sectors;
    * mixed heavy concentrate: made by light separation + net imports = refined + left in the
      residue.
    """
    production = ds.production.sum("origin")
    use = ds.consumption
    return {
        "ore": production.sel(stage="mining", drop=True) - use.sel(stage="mining", drop=True),
        "concentrate": production.sel(stage="concentration", drop=True)
        + _net_imports(ds, "concentrate")
        - use.sel(stage="concentration", drop=True)
        - ds.concentrate_stored,
        "oxide": production.sel(stage="separation", drop=True)
        + production.sel(stage="recycling", drop=True)
        + _net_imports(ds, "oxide")
        + ds.stockpile_release
        + ds.inventory_release
        - use.sel(stage="separation", drop=True)
        - ds.disposal,
        "metal": production.sel(stage="metal", drop=True)
        + _net_imports(ds, "metal")
        - use.sel(stage="metal", drop=True),
        "magnet": production.sel(stage="magnet", drop=True)
        + _net_imports(ds, "magnet")
        - use.sel(stage="magnet", drop=True),
        "mixed_heavy": ds.mixed_heavy_production
        + _net_imports(ds, "mixed_heavy")
        - ds.mixed_heavy_refined
        - ds.mixed_heavy_disposal,
    }


def transformation_losses(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """Input minus output of each processing step (t REO); never negative in a valid solution.

    Concentration, separation, metal reduction and recycling lose material (recovery < 1);
    magnet making consumes metal gross of swarf, which becomes scrap. Separation takes
    concentrate and mixed heavy concentrate and makes oxide and mixed heavy concentrate.
    """
    production = ds.production.sum("origin")
    use = ds.consumption
    return {
        "concentration": use.sel(stage="mining", drop=True)
        - production.sel(stage="concentration", drop=True),
        "separation": use.sel(stage="concentration", drop=True)
        + ds.mixed_heavy_refined
        - production.sel(stage="separation", drop=True)
        - ds.mixed_heavy_production,
        "recycling": use.sel(stage="recycling", drop=True)
        - production.sel(stage="recycling", drop=True),
        "magnet": use.sel(stage="metal", drop=True) - production.sel(stage="magnet", drop=True),
    }
