"""Write ``docs/results.md`` from the result contract (:mod:`rareflow.model.results_contract`).

Regenerate the page after changing the contract::

    python -m rareflow.model.results_doc > docs/results.md

A test fails when the page and the contract disagree.
"""

from __future__ import annotations

import sys

from rareflow.model.results_contract import (
    COORDINATES,
    RESULT_ATTRIBUTES,
    RESULT_COORDINATES,
    RESULT_VARIABLES,
    VARIABLES,
    ResultVariable,
)

_HEADER = """\
# Result datasets (the contract between engine, metrics, store, reports)

<!-- Generated from src/rareflow/model/results_contract.py by
     `python -m rareflow.model.results_doc > docs/results.md`; edit the contract, not this page. -->

Every solve returns an `xarray.Dataset`. `solve_year` returns one with a length-1 `year`
dimension; `simulate` concatenates years; ensembles add a `draw` dimension. Units are in each
variable's `attrs["units"]`. Quantities are tonnes of rare-earth oxide equivalent (t REO) unless
the name says magnet tonnes (`t magnet`). Prices are USD/kg.

A scenario run's result (`rareflow run`, each ensemble draw) has everything marked *required*
below, and `rareflow.metrics.contract_problems` lists every way a dataset departs from that. A bare
engine solve or simulation carries only what its writer adds (see *written by*). Ensemble draws
also carry the ensemble's key series, which are not part of this contract.
"""

_WRITERS = {
    "solve": "every solved year (`engine.results`)",
    "simulation": "a multi-year simulation (`engine.simulate`)",
    "policy": "the policy program of a scenario run",
}


#: The variable the page's DuckDB example restores the zeros of.
DENSE_EXAMPLE = "shortfall"

#: The run id the page's SQL names; replace it with a real one.
RUN_PLACEHOLDER = "RUN"

_STORE_HEADER = """\
## The run store's Parquet files

`rareflow run` and `rareflow ensemble` keep each result in the run store (`--store`, default
`./rareflow-runs`): `runs.duckdb` holds the runs, their draws and each draw's *layout* (its
coordinates as JSON), and `results/<run_id>/draw=<n>/<variable>.parquet` one tidy table per
variable and draw, with one column per dimension of the variable (the labels), `value`, then
`run_id` and `draw` (the same in every row of a file; files of older stores lack these two
columns, and DuckDB's `hive_partitioning` then reads `draw` from the folder name).

**Zeros are not stored.** A float variable's files hold only its non-zero cells: a cell with
no row is 0 (-0.0 and NaN are stored). Most cells of a result are 0 (no trade between most
pairs of regions, no shortfall in most sectors), so this keeps the store small, but it changes
every statistic except the sum when the files are read as they are: `count(*)`, `avg(value)`,
minima, quantiles and a filter `value = 0` see only the stored rows. `RunStore.load_result`,
`RunStore.load_variable` and `rareflow export` restore the zeros; `RunStore.query` and a plain
`read_parquet` do not.

In plain DuckDB, the view below restores them. It takes each done draw's labels from its
layout, builds every cell of the variable and fills the cells without a row with 0. Start
DuckDB in the store's folder (`cd rareflow-runs && duckdb`), replace `RUN` by the full run id
(`rareflow runs list`) and, for another variable, name its dims as the table above lists them
(`CAST(... AS BIGINT)` for `year` and the other integer coordinates):
"""


def dense_view_sql(variable: ResultVariable, run_id: str = RUN_PLACEHOLDER) -> str:
    """DuckDB SQL that creates ``<variable>_dense``: every cell of ``variable``, zeros restored.

    Run in a DuckDB session whose working folder is the run store's root. The view has the
    columns ``draw``, the variable's dims and ``value``, one row per cell of each done draw.
    """
    dims = variable.dims
    labels = []
    for index, dim in enumerate(dims):
        column = f"d{index}.label"
        if COORDINATES[dim].kind == "int":
            column = f"CAST({column} AS BIGINT)"
        labels.append(f"{column} AS {dim}")
    joins = [f"  FROM labels('{run_id}', '{dims[0]}') d0"]
    joins += [f"  JOIN labels('{run_id}', '{dim}') d{index} USING (draw)"
              for index, dim in enumerate(dims) if index]
    keys = ", ".join(("draw", *dims))
    return "\n".join([
        "ATTACH IF NOT EXISTS 'runs.duckdb' AS rs (READ_ONLY);",
        "",
        "-- The labels of one dimension in each done draw of a run, from the draw's layout.",
        "CREATE OR REPLACE TEMP MACRO labels(run, dim) AS TABLE",
        "SELECT d.draw, unnest(json_extract_string(",
        "    l.layout, '$.coords.' || dim || '.data.values[*]')) AS label",
        "FROM rs.draws d JOIN rs.layouts l USING (layout_id)",
        "WHERE d.run_id = run AND d.status = 'done';",
        "",
        f"-- Every cell of {variable.name}: the stored rows, and 0 where a cell has none.",
        f"CREATE OR REPLACE TEMP VIEW {variable.name}_dense AS",
        "SELECT g.draw, " + ", ".join(f"g.{dim}" for dim in dims)
        + ", coalesce(s.value, 0) AS value",
        "FROM (",
        "  SELECT draw, " + ", ".join(labels),
        *joins,
        ") g",
        f"LEFT JOIN read_parquet('results/{run_id}/draw=*/{variable.name}.parquet',",
        "    hive_partitioning = true, hive_types = {'draw': BIGINT}, union_by_name = true) s",
        f"USING ({keys});",
    ])


def store_section() -> str:
    """The page's section on the store's Parquet files and the view that restores zeros."""
    example = VARIABLES[DENSE_EXAMPLE]
    return "\n".join([
        _STORE_HEADER,
        "```sql",
        dense_view_sql(example),
        "```",
        "",
        f"Then `SELECT avg(value) FROM {example.name}_dense` is the mean over every cell, as",
        f"`ds[\"{example.name}\"].mean()` is in xarray, while `SELECT avg(value) FROM",
        f"read_parquet('results/RUN/draw=*/{example.name}.parquet')` is the mean of the "
        "non-zero",
        "cells only, often several times larger.",
        "",
    ])


def _optional(optional: bool) -> str:
    return "no" if optional else "yes"


def _variable_row(variable: ResultVariable) -> str:
    return (f"| `{variable.name}` | {', '.join(variable.dims)} | {variable.units} "
            f"| {variable.description} | {variable.written_by} | {_optional(variable.optional)} |")


def markdown() -> str:
    """The text of ``docs/results.md``: the fixed prose and the contract's tables."""
    lines = [_HEADER, "## Coordinates", "| coord | dims | values | required |", "|---|---|---|---|"]
    lines += [f"| `{c.name}` | {', '.join(c.dims)} | {c.kind}: {c.values} | "
              f"{_optional(c.optional)} |" for c in RESULT_COORDINATES]
    dtypes = " or ".join(sorted({variable.dtype for variable in RESULT_VARIABLES}))
    lines += ["", "## Data variables",
              f"Data variables are {dtypes}. *Written by*: "
              + "; ".join(f"`{key}` = {text}" for key, text in _WRITERS.items()) + ".", "",
              "| name | dims | units | meaning | written by | required |",
              "|---|---|---|---|---|---|"]
    lines += [_variable_row(variable) for variable in RESULT_VARIABLES]
    lines += ["", "## Dataset attributes", "| attr | meaning | required |", "|---|---|---|"]
    lines += [f"| `{a.name}` | {a.description} | {_optional(a.optional)} |"
              for a in RESULT_ATTRIBUTES]
    lines += ["", store_section()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the page (``--check PATH``: exit 1 if the file at PATH is out of date)."""
    args = sys.argv[1:] if argv is None else argv
    text = markdown()
    if args[:1] == ["--check"] and len(args) == 2:
        with open(args[1], encoding="utf-8") as page:
            if page.read() != text:
                print(f"{args[1]} is out of date: run python -m rareflow.model.results_doc "
                      f"> {args[1]}", file=sys.stderr)
                return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
