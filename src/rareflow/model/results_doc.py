"""Write ``docs/results.md`` from the result contract (:mod:`rareflow.model.results_contract`).

Regenerate the page after changing the contract::

    python -m rareflow.model.results_doc > docs/results.md

A test fails when the page and the contract disagree.
"""

from __future__ import annotations

import sys

from rareflow.model.results_contract import (
    RESULT_ATTRIBUTES,
    RESULT_COORDINATES,
    RESULT_VARIABLES,
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
    return "\n".join(lines) + "\n"


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
