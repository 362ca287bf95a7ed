# %% [markdown]
# # Writing a new scenario
#
# A scenario is YAML: it may extend a bundled scenario and add policies. Every key is listed
# in the scenario language reference (generated from the models). Here: China's October 2025
# controls, answered by a US price floor for NdPr oxide at two more producers and a
# strategic NdPr stockpile.

# %%
import os
import tempfile
from pathlib import Path

os.environ.setdefault("RAREFLOW_STORE", str(Path(tempfile.mkdtemp()) / "store"))
folder = Path(tempfile.mkdtemp())

scenario_file = folder / "floor-and-stockpile.yaml"
scenario_file.write_text("""\
name: floor-and-stockpile
description: October 2025 controls, a wider US NdPr floor and a strategic NdPr stockpile.
extends: controls-2025-october
years: {start: 2024, end: 2027}

policies:
  - id: usa_floor_wider
    type: price_floor
    note: What-if - the DoD floor extended to Energy Fuels' separation line.
    producers: [ef_white_mesa_phase1]
    element: NdPr
    floor_usd_per_kg: 110
    start: 2026
    years: 10
    payer: USA

  - id: usa_ndpr_stockpile
    type: stockpile
    note: What-if - a strategic NdPr stock for defence.
    region: USA
    element: NdPr
    start: 2026
    target_t: 2000
    fill_rate_t_per_y: 500
    release: {on_shortfall: true, sectors: [defence]}
""", encoding="utf-8")

# %% [markdown]
# `load_scenario` validates the file and its names against the world; a misspelt key or an
# unknown facility is an error naming the line and the closest valid name.

# %%
from rareflow.data.loader import load_world
from rareflow.scenario import load_scenario

world = load_world()
scenario = load_scenario(scenario_file, world)
print("extends:", scenario.lineage[1:])
print("policies:", [policy.id for policy in scenario.policies])

# %%
from rareflow.model.errors import DataError

broken = folder / "broken.yaml"
broken.write_text(scenario_file.read_text(encoding="utf-8").replace("payer: USA", "payr: USA"),
                  encoding="utf-8")
try:
    load_scenario(broken, world)
except DataError as error:
    print(error)

# %% [markdown]
# Run it and read the policies' fiscal cost (USD million) and the stockpile level.

# %%
from rareflow.runs import run_parsed_scenario

outcome = run_parsed_scenario(scenario, world, scenario.run_years(world, None))
result = outcome.result
result.fiscal_cost.sel(instrument=["usa_floor_wider", "usa_ndpr_stockpile"]).to_pandas().round(1)

# %% [markdown]
# Strategic NdPr stock held in the US at year end (t REO; the bundled data's existing stocks
# plus what the new stockpile buys from 2026):

# %%
result.stockpile_level.sel(region="USA", element="NdPr").to_pandas().round(0)
