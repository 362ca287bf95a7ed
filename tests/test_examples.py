"""Every example notebook in ``examples/`` runs on the bundled data, and figures show inline.

The notebooks are Jupytext percent-format scripts; each is converted and executed with nbclient
in a fresh Python kernel, with its own temporary run store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.py"))
PLOTLY_MIME = "application/vnd.plotly.v1+json"

pytestmark = pytest.mark.slow


def test_the_examples_are_the_documented_ones() -> None:
    assert {path.stem for path in NOTEBOOKS} == {
        "quickstart", "compare_policies", "ensemble", "own_data", "results_tools",
        "new_scenario"}


def _execute(path: Path, tmp_path: Path) -> list[dict[str, object]]:
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return [output for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.get("outputs", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_example_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAREFLOW_STORE", str(tmp_path / "store"))  # the kernel inherits it
    outputs = _execute(path, tmp_path)
    errors = [output for output in outputs if output.get("output_type") == "error"]
    assert not errors
    assert not list(tmp_path.glob("*.ipynb"))
    if path.stem in ("quickstart", "compare_policies", "ensemble"):
        shown = [output for output in outputs if PLOTLY_MIME in output.get("data", {})]
        assert shown, f"{path.name} shows no plotly figure inline"
