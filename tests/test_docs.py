"""The documentation site builds with ``mkdocs build --strict`` and documents the whole surface.

One build (module fixture) into a temporary folder; then: no warning in the build log, every
function and class of the public API modules has a heading in the API reference, every scenario
instrument has its section in the generated scenario reference, every result variable of the
contract appears on the results page, and every example notebook has its page.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings")
pytest.importorskip("jupytext")

from rareflow.cli import main
from rareflow.model.results_contract import RESULT_VARIABLES
from rareflow.scenario.instruments import INSTRUMENT_MODELS

ROOT = Path(__file__).resolve().parents[1]

#: Modules whose ``__all__`` is rareflow's public Python API.
PUBLIC_MODULES = ("rareflow.runs", "rareflow.runs.ensemble", "rareflow.scenario",
                  "rareflow.model", "rareflow.metrics", "rareflow.store", "rareflow.report",
                  "rareflow.testing")
#: Public functions outside those modules' ``__all__`` that a user needs.
PUBLIC_FUNCTIONS = ("rareflow.data.loader.load_world", "rareflow.engine.simulate.simulate",
                    "rareflow.policy.program.simulate_scenario")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**_environment(), "NO_MKDOCS_2_WARNING": "1"})
    log = built.stdout + built.stderr
    assert built.returncode == 0, log
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    assert not warnings, "\n".join(warnings)
    return target


def _environment() -> dict[str, str]:
    src = str(ROOT / "src")
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": src if not path else f"{src}{os.pathsep}{path}"}


def _html(site: Path) -> str:
    return "\n".join(page.read_text(encoding="utf-8") for page in site.rglob("*.html"))


def _public_objects() -> list[str]:
    names = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value) or inspect.isclass(value):
                names.append(f"{module_name}.{name}")
    return [*names, *PUBLIC_FUNCTIONS]


def test_every_public_function_and_class_has_an_api_entry(site: Path) -> None:
    ids = set(re.findall(r'id="(rareflow\.[\w.]+)"', _html(site)))
    # rareflow.runs re-exports the ensemble's entry points: one entry serves both names.
    shown = ids | {name.replace("rareflow.runs.", "rareflow.runs.ensemble.") for name in ids}
    missing = [name for name in _public_objects() if name not in shown]
    assert not missing, missing


def test_every_instrument_has_a_generated_reference_section(site: Path) -> None:
    page = (site / "scenario-reference" / "index.html").read_text(encoding="utf-8")
    missing = [kind for kind in INSTRUMENT_MODELS if f'id="{kind}"' not in page]
    assert not missing, missing
    for kind, model in INSTRUMENT_MODELS.items():
        section = page.split(f'id="{kind}"', 1)[1].split('<h3 id="', 1)[0]
        keys = [info.alias or name for name, info in model.model_fields.items()
                if name not in ("id", "type", "note", "source", "suspended")]
        absent = [key for key in keys if f"<code>{key}</code>" not in section]
        assert not absent, f"{kind}: {absent}"
        assert "<pre" in section, f"{kind} has no example"


def test_every_result_variable_is_on_the_results_page(site: Path) -> None:
    page = (site / "results" / "index.html").read_text(encoding="utf-8")
    missing = [v.name for v in RESULT_VARIABLES if f"<code>{v.name}</code>" not in page]
    assert not missing, missing


def test_every_example_and_data_file_has_its_page(site: Path) -> None:
    for notebook in (ROOT / "examples").glob("*.py"):
        assert (site / "examples" / notebook.stem / "index.html").is_file(), notebook.name
    guide = (site / "data-guide" / "index.html").read_text(encoding="utf-8")
    data = ROOT / "src" / "rareflow" / "data"
    missing = [path.name for path in data.glob("*.yaml") if path.name not in guide]
    assert not missing, missing


def test_every_command_has_its_help_on_the_commands_page(site: Path) -> None:
    page = (site / "commands" / "index.html").read_text(encoding="utf-8")
    context = click.Context(main, info_name="rareflow")
    missing = [name for name in main.list_commands(context)
               if f"Usage: rareflow {name}" not in page]
    assert not missing, missing


def test_the_glossary_holds_the_dashboards_terms(site: Path) -> None:
    from rareflow.web.glossary import dashboard_terms

    page = (site / "glossary" / "index.html").read_text(encoding="utf-8")
    terms = [term for term, _ in dashboard_terms()]
    assert {"t REO", "HHI", "CRMA", "de minimis", "NdPr", "Offtake", "Price floor",
            "Demand response", "Shortfall", "pp"} <= set(terms)
    missing = [term for term in terms if f"<strong>{term}</strong>" not in page]
    assert not missing, missing
