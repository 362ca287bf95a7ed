"""The documentation build's hooks (``scripts/mkdocs_hooks.py``) render notebooks and help."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("mkdocs")
nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "scripts" /
                                                  "mkdocs_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_notebook_page_has_its_text_and_code_without_running_it(hooks: ModuleType) -> None:
    page = hooks.notebook_markdown(ROOT / "examples" / "quickstart.py")
    assert page.startswith("# Quick start")
    assert "```python\nfrom rareflow.runs import run_scenario" in page
    assert "plotly.min.js" not in page


def test_outputs_render_as_text_tables_and_plotly_figures(hooks: ModuleType) -> None:
    stream = nbformat.v4.new_output("stream", text="stored as run 1a2b\n")
    assert hooks._output_markdown(stream, "f") == "```text\nstored as run 1a2b\n```"
    figure = nbformat.v4.new_output("display_data", data={
        hooks.PLOTLY_MIME: {"data": [{"name": "</script>"}], "layout": {}}})
    rendered = hooks._output_markdown(figure, "fig-1")
    assert 'id="fig-1"' in rendered and "Plotly.newPlot('fig-1'" in rendered
    assert rendered.count("</script>") == 1
    table = nbformat.v4.new_output("execute_result", data={
        "text/html": "<div><table><tr><td>1</td></tr></table></div>", "text/plain": "1"})
    assert "<table>" in hooks._output_markdown(table, "t")
    xarray = nbformat.v4.new_output("execute_result", data={
        "text/html": "<div class='xr-wrap'><table></table></div>", "text/plain": "<xarray>"})
    assert hooks._output_markdown(xarray, "x") == "```text\n<xarray>\n```"


def test_command_help_covers_groups_and_their_subcommands(hooks: ModuleType) -> None:
    text = hooks.cli_help("<!-- cli-help: runs -->\n<!-- cli-help: other -->")
    assert "Usage: rareflow runs list" in text
    assert "### `rareflow run`" in text and "<!--" not in text
