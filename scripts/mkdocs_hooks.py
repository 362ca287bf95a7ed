"""MkDocs hooks: pages generated from the code on every documentation build.

* ``scenario-reference.md`` from the scenario language's pydantic models
  (:mod:`rareflow.scenario.reference_doc`);
* ``data-guide.md`` from the data record models and the bundled files
  (:mod:`rareflow.data.guide_doc`);
* ``examples/<name>.md`` from the Jupytext notebooks in ``examples/`` (text and code, no outputs;
  the notebooks are executed by ``tests/test_examples.py``);
* ``commands.md``: each marker ``<!-- cli-help: NAME -->`` becomes the ``--help`` of command NAME
  and its subcommands (``other``: every command not placed elsewhere);
* ``glossary.md``: the marker ``<!-- dashboard-glossary -->`` is replaced by the dashboard's
  glossary (:func:`rareflow.web.glossary.dashboard_terms`).

Nothing is written into ``docs/``: generated pages exist only in the built site, so they cannot
go stale in the repository.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import jupytext
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from rareflow.cli import main as cli_main
from rareflow.data import guide_doc
from rareflow.scenario import reference_doc
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


def notebook_markdown(path: Path) -> str:
    """A Jupytext percent-format notebook as a Markdown page: its text, and code as blocks."""
    notebook = jupytext.read(path)
    parts = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        elif cell.cell_type == "code" and cell.source.strip():
            parts.append(f"```python\n{cell.source.rstrip()}\n```")
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
        generated[f"examples/{path.stem}.md"] = notebook_markdown(path)
    for uri, content in generated.items():
        files.append(File.generated(config, uri, content=content))
    return files


def on_page_markdown(markdown: str, page: Page, **kwargs: Any) -> str:
    """Put the CLI help and the dashboard's glossary where the pages ask for them."""
    if CLI_MARKER.search(markdown):
        markdown = cli_help(markdown)
    if GLOSSARY_MARKER not in markdown:
        return markdown
    terms = "\n\n".join(f"**{term}**\n:   {definition}" for term, definition in dashboard_terms())
    return markdown.replace(GLOSSARY_MARKER, terms)
