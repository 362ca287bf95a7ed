"""The built wheel works on its own: installed (not editable) in a fresh venv, off the source.

``python -m build`` makes the sdist and, from it, the wheel (so a file the sdist leaves out
fails too); ``twine check`` reads both. The wheel must hold every data file of the package
(YAML, JSON, static web files, report templates): each file under ``src/rareflow`` that is not
Python source is looked up in it. Then a new virtual environment (no system site packages)
installs the wheel and its dependencies from the package index (pip's cache makes a second
run quick) and runs, from an empty folder, ``rareflow data check``, a two-year baseline run
and ``rareflow validate --quick`` where that command exists.

This is CI's check of the package (``.ci/run`` runs the whole suite, slow tests included). It
needs the package index or a pip cache holding the dependencies; ``PIP_INDEX_URL`` and
``PIP_FIND_LINKS`` are passed through to pip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "rareflow"
#: Files in the package folder that are not package data.
NOT_DATA = {".py", ".pyc"}


def _run(args: list[str | Path], cwd: Path, env: dict[str, str], *, check: bool = True,
         timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    """Run a command; with ``check``, fail the test (showing its output) unless it exits 0."""
    done = subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert done.returncode == 0 or not check, (
        f"{' '.join(map(str, args))} exited {done.returncode}\n{done.stdout[-3000:]}\n"
        f"{done.stderr[-3000:]}")
    return done


def _clean_env(home: Path) -> dict[str, str]:
    """The environment without anything pointing at the source tree or the test venv."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "RAREFLOW_STORE"}}
    env["HOME"] = env.get("HOME", str(home))
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def package_data() -> set[str]:
    """Every non-Python file of the package, as a path inside the wheel."""
    return {str(path.relative_to(PACKAGE.parent)) for path in PACKAGE.rglob("*")
            if path.is_file() and path.suffix not in NOT_DATA
            and "__pycache__" not in path.parts}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and the wheel ``python -m build`` makes of the source tree."""
    out = tmp_path_factory.mktemp("dist")
    env = _clean_env(out)
    _run([sys.executable, "-m", "build", "--outdir", out, ROOT], cwd=out, env=env)
    (wheel,) = out.glob("rareflow-*.whl")
    (sdist,) = out.glob("rareflow-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist, "folder": out}


def test_wheel_and_sdist_hold_the_package_data_and_pass_twine(dist):
    data = package_data()
    assert {"rareflow/data/world.yaml", "rareflow/scenarios/baseline.yaml",
            "rareflow/scenarios/scenario.schema.json", "rareflow/py.typed"} <= data
    assert any(name.startswith("rareflow/web/static/") for name in data)
    assert any(name.startswith("rareflow/report/templates/") for name in data)
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        in_wheel = set(wheel.namelist())
    missing = sorted(data - in_wheel)
    assert not missing, f"package data missing from the wheel: {missing}"
    with tarfile.open(dist["sdist"]) as sdist:
        in_sdist = {name.split("/src/", 1)[-1] for name in sdist.getnames() if "/src/" in name}
    assert not sorted(data - in_sdist), "package data missing from the sdist"
    checked = _run([sys.executable, "-m", "twine", "check", "--strict", dist["wheel"],
                    dist["sdist"]], cwd=dist["folder"], env=_clean_env(dist["folder"]))
    assert checked.stdout.count("PASSED") == 2, checked.stdout


def test_wheel_in_a_fresh_venv_runs_the_smoke_test(dist, tmp_path):
    venv = tmp_path / "venv"
    env = _clean_env(tmp_path)
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path, env=env)
    bin_dir = venv / "bin"
    _run([bin_dir / "python", "-m", "pip", "install", "--quiet", "--no-compile", dist["wheel"]],
         cwd=tmp_path, env=env)
    work = tmp_path / "work"  # an empty folder: nothing of the source tree is in reach
    work.mkdir()
    where = _run([bin_dir / "python", "-c", "import rareflow; print(rareflow.__file__)"],
                 cwd=work, env=env).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the installed copy, not the source
    rareflow = bin_dir / "rareflow"
    checked = _run([rareflow, "data", "check"], cwd=work, env=env)
    assert "error" not in checked.stderr.lower()
    ran = _run([rareflow, "run", "baseline", "--years", "2024-2025", "--store", work / "runs",
                "--json"], cwd=work, env=env)
    assert '"scenario": "baseline"' in ran.stdout
    assert (work / "runs" / "runs.duckdb").is_file()
    if _run([rareflow, "validate", "--help"], cwd=work, env=env, check=False).returncode == 0:
        _run([rareflow, "validate", "--quick"], cwd=work, env=env)
