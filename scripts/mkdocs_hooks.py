"""MkDocs hooks: pages generated from the code on every documentation build.

* ``scenario-reference.md`` from the scenario language's pydantic models
  (:mod:`rareflow.scenario.reference_doc`);
* ``data-guide.md`` from the data record models and the bundled files
  (:mod:`rareflow.data.guide_doc`);
* ``examples/<name>.md`` from the Jupytext notebooks in ``examples/``: text and code; with
  ``RAREFLOW_DOCS_EXECUTE=1`` each notebook is also executed (about a minute of CPU for all)
  and its outputs shown, Plotly figures drawn by the plotly.js that the plotly package ships
  (the tests build without outputs; ``tests/test_examples.py`` executes the notebooks);
* ``commands.md``: each marker ``<!-- cli-help: NAME -->`` becomes the ``--help`` of command NAME
  and its subcommands (``other``: every command not placed elsewhere);
* ``glossary.md``: the marker ``<!-- dashboard-glossary -->`` is replaced by the dashboard's
  glossary (:func:`rareflow.web.glossary.dashboard_terms`).

Nothing is written into ``docs/``: generated pages exist only in the built site, so they cannot
go stale in the repository.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import click
import jupytext
import nbformat
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from rareflow.cli import main as cli_main
from rareflow.data import guide_doc
from rareflow.scenario import reference_doc
from rareflow.web.assets import plotly_js
from rareflow.web.glossary import dashboard_terms

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GLOSSARY_MARKER = "<!-- dashboard-glossary -->"
CLI_MARKER = re.compile(r"<!-- cli-help: ([a-z-]+) -->")


def command_help(name: str) -> str:
    """The ``--help`` of ``rareflow NAME`` and of each of its subcommands, as code blocks."""
    root = click.Context(cli_main, info_name="rareflow")
    command = cli_main.get_command(root, name)
    assert command is not None, f"no command {name!r}"
    context = click.Context(command, info_name=name, parent=root)
    blocks = [command.get_help(context)]
    if isinstance(command, click.Group):
        for sub in command.list_commands(context):
            subcommand = command.get_command(context, sub)
            assert subcommand is not None
            blocks.append(subcommand.get_help(click.Context(subcommand, info_name=sub,
                                                            parent=context)))
    return "\n\n".join(f"```text\n{block}\n```" for block in blocks)


def cli_help(markdown: str) -> str:
    """Replace every ``cli-help`` marker of ``markdown`` by that command's help."""
    root = click.Context(cli_main, info_name="rareflow")
    placed = set(CLI_MARKER.findall(markdown)) - {"other"}
    others = [name for name in cli_main.list_commands(root) if name not in placed]

    def replace(match: re.Match[str]) -> str:
        if match.group(1) != "other":
            return command_help(match.group(1))
        if not others:
            return "None: every command has its section above."
        return "\n\n".join(f"### `rareflow {name}`\n\n{command_help(name)}" for name in others)

    return CLI_MARKER.sub(replace, markdown)


PLOTLY_MIME = "application/vnd.plotly.v1+json"
PLOTLY_ASSET = "assets/javascripts/plotly.min.js"


def executing() -> bool:
    """Whether this build executes the example notebooks (``RAREFLOW_DOCS_EXECUTE=1``)."""
    return os.environ.get("RAREFLOW_DOCS_EXECUTE") == "1"


def _execute(notebook: nbformat.NotebookNode) -> None:
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory() as folder:
        previous = os.environ.get("RAREFLOW_STORE")
        os.environ["RAREFLOW_STORE"] = str(Path(folder) / "store")  # the kernel inherits it
        try:
            NotebookClient(notebook, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": folder}}).execute()
        finally:
            if previous is None:
                os.environ.pop("RAREFLOW_STORE", None)
            else:
                os.environ["RAREFLOW_STORE"] = previous


def _output_markdown(output: nbformat.NotebookNode, figure_id: str) -> str:
    if output.output_type == "stream":
        return f"```text\n{output.text.rstrip()}\n```"
    data = output.get("data", {})
    if PLOTLY_MIME in data:
        figure = json.dumps(data[PLOTLY_MIME]).replace("</", "<\\/")  # no early </script>
        return (f'<div class="notebook-figure" id="{figure_id}"></div>\n'
                f"<script>(function () {{ const f = {figure}; "
                f"Plotly.newPlot('{figure_id}', f.data, f.layout, {{responsive: true}}); }})();"
                "</script>")
    # Tables (pandas) as HTML; xarray's HTML needs its notebook styles, so it shows as text.
    if "<table" in data.get("text/html", "") and "xr-wrap" not in data["text/html"]:
        return f'<div class="notebook-html" markdown="0">\n{data["text/html"]}\n</div>'
    if "text/plain" in data:
        return f"```text\n{data['text/plain'].rstrip()}\n```"
    return ""


def notebook_markdown(path: Path, execute: bool = False) -> str:
    """A Jupytext percent-format notebook as a Markdown page: its text, code and outputs."""
    notebook = jupytext.read(path)
    if execute:
        _execute(notebook)
    parts = []
    if execute:
        parts.append(f'<script src="../../{PLOTLY_ASSET}"></script>')
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        elif cell.cell_type == "code" and cell.source.strip():
            parts.append(f"```python\n{cell.source.rstrip()}\n```")
            for number, output in enumerate(cell.get("outputs", [])):
                rendered = _output_markdown(output, f"{path.stem}-{index}-{number}")
                if rendered:
                    parts.append(rendered)
    link = f"`examples/{path.name}`"
    parts.append(
        f"!!! note \"Run this notebook\"\n    The source is {link} (a Jupytext percent-format "
        f"script). Open it in Jupyter with Jupytext installed, or run "
        f"`jupytext --to ipynb {link.strip('`')}` and open the `.ipynb`.")
    return "\n\n".join(parts) + "\n"


def on_files(files: Files, config: MkDocsConfig, **kwargs: Any) -> Files:
    """Add the generated pages to the site."""
    generated = {
        "scenario-reference.md": reference_doc.markdown(),
        "data-guide.md": guide_doc.markdown(),
    }
    for path in sorted(EXAMPLES.glob("*.py")):
        generated[f"examples/{path.stem}.md"] = notebook_markdown(path, executing())
    for uri, content in generated.items():
        files.append(File.generated(config, uri, content=content))
    if executing():
        files.append(File.generated(config, PLOTLY_ASSET, abs_src_path=str(plotly_js())))
    return files


def on_page_markdown(markdown: str, page: Page, **kwargs: Any) -> str:
    """Put the CLI help and the dashboard's glossary where the pages ask for them."""
    if CLI_MARKER.search(markdown):
        markdown = cli_help(markdown)
    if GLOSSARY_MARKER not in markdown:
        return markdown
    terms = "\n\n".join(f"**{term}**\n:   {definition}" for term, definition in dashboard_terms())
    return markdown.replace(GLOSSARY_MARKER, terms)
