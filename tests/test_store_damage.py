"""Damaged stores (issue #15): a damaged file or database is a named error that says what to do.

Real files are damaged -- truncated, overwritten, deleted -- never mocked. Each test failed on
the store before :mod:`rareflow.store.integrity` (a raw pyarrow or DuckDB error, or a silently
short result) and passes now.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from rareflow.cli import main
from rareflow.store import CorruptStoreError, RunStore, files
from rareflow.store.errors import MissingDatabaseError
from rareflow.testing import synthetic_result

VARIABLE = "production"


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _overwrite_end(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:-16] + b"\0" * 16)


def _delete(path: Path) -> None:
    path.unlink()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _truncate, "overwritten": _overwrite_end, "deleted": _delete,
}


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, str, str]:
    """A store with a single run and a three-draw ensemble (synthetic results)."""
    with RunStore(tmp_path, durable=False) as st:
        single = st.create_run("single", "one", "text", "d", "c", 1, 1)
        st.write_draw(single.run_id, 0, synthetic_result(0))
        ens = st.create_run("ensemble", "many", "text", "d", "c", 1, 3)
        st.write_draws(ens.run_id, {d: synthetic_result(d) for d in range(3)})
    return tmp_path, single.run_id, ens.run_id


def _assert_names_run_and_file(error: BaseException, run_id: str, path: Path) -> None:
    text = str(error)
    assert isinstance(error, CorruptStoreError)
    assert run_id in text and str(path) in text and f"rareflow runs delete {run_id}" in text
    assert "\n" not in text


def _run(*args: str, flat: bool = True) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    if not flat:
        return result.exit_code, result.output
    return result.exit_code, " ".join(result.output.split())  # unwrap rich's line breaks


# -- damaged Parquet files: every read path ----------------------------------------------------


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_file_fails_every_store_read_with_corrupt_store_error(
    store: tuple[Path, str, str], damage: str
) -> None:
    root, _, ens = store
    path = files.variable_file(root, ens, 1, VARIABLE)
    DAMAGE[damage](path)
    reads: dict[str, Callable[[RunStore], object]] = {
        "load_result draw": lambda st: st.load_result(ens, 1),
        "load_result all": lambda st: st.load_result(ens),
        "load_variable": lambda st: st.load_variable(ens, VARIABLE),
        "result() macro": lambda st: st.query(
            f"SELECT sum(value) FROM result('{ens}', '{VARIABLE}')"),
    }
    if damage != "deleted":  # a hand-written glob cannot know which files should be there
        reads["read_parquet glob"] = lambda st: st.query(
            f"SELECT sum(value) FROM read_parquet('results/{ens}/draw=*/{VARIABLE}.parquet')")
    with RunStore(root, read_only=True) as st:
        for name, read in reads.items():
            with pytest.raises(CorruptStoreError) as caught:
                read(st)
            _assert_names_run_and_file(caught.value, ens, path)
            assert name  # the read that raised, shown by pytest on failure
        # the undamaged draws still read
        assert len(st.load_variable(ens, VARIABLE, draws=[0, 2])) > 0
        assert st.query(f"SELECT count(*) AS n FROM result('{ens}', 'price')")["n"][0] > 0


def test_variable_glob_of_damaged_file_names_it(store: tuple[Path, str, str]) -> None:
    root, _, ens = store
    path = files.variable_file(root, ens, 2, VARIABLE)
    _truncate(path)
    with RunStore(root, read_only=True) as st:
        glob = st.variable_glob(ens, VARIABLE)
        with pytest.raises(CorruptStoreError) as caught:
            st.query(f"SELECT count(*) FROM read_parquet('{glob}')")
    _assert_names_run_and_file(caught.value, ens, path)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_runs_list_and_show_mark_damaged_runs(
    store: tuple[Path, str, str], damage: str
) -> None:
    root, single, ens = store
    path = files.variable_file(root, ens, 1, VARIABLE)
    DAMAGE[damage](path)
    code, out = _run("runs", "list", "--store", str(root), "--json")
    assert code == 0, out
    listed = {row["run_id"]: row for row in json.loads(out)}
    assert listed[single]["damaged"] is False and listed[single]["status"] == "complete"
    assert listed[ens]["damaged"] is True and listed[ens]["status"] == "damaged"
    assert str(path) in listed[ens]["damage"][0]
    assert f"rareflow runs delete {ens}" in listed[ens]["recovery"]
    code, out = _run("runs", "list", "--store", str(root), flat=False)
    assert code == 0, out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()[:12] in
            {single, ens}}
    assert "damaged" in rows[ens] and "damaged" not in rows[single]
    code, out = _run("runs", "show", ens, "--store", str(root), "--json")
    assert code == 0 and json.loads(out)["damaged"] is True


def test_size_differing_from_the_recorded_one_marks_the_run_damaged(
    store: tuple[Path, str, str]
) -> None:
    """A whole-looking file of another draw copied over this one is caught by the recorded size."""
    root, single, ens = store
    other = files.variable_file(root, ens, 0, "trade")
    target = files.variable_file(root, single, 0, "trade")
    if other.stat().st_size == target.stat().st_size:
        other = files.variable_file(root, ens, 0, "price")
    target.write_bytes(other.read_bytes())
    with RunStore(root, read_only=True) as st:
        [damage] = st.damaged_draws(single)
        assert damage.draw == 0 and "recorded" in damage.problem
        assert st.get_run(single, check_files=True).status == "damaged"
        assert st.get_run(ens, check_files=True).status == "complete"


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_report_and_compare_of_damaged_run_say_how_to_recover(
    store: tuple[Path, str, str], damage: str
) -> None:
    root, single, ens = store
    path = files.variable_file(root, single, 0, VARIABLE)
    DAMAGE[damage](path)
    code, out = _run("report", single, "--store", str(root), "--out", str(root / "r.html"))
    assert code != 0 and "Traceback" not in out
    assert f"rareflow runs delete {single}" in out and path.name in out
    code, out = _run("compare", single, ens, "--draw", "0", "--store", str(root))
    assert code != 0 and "Traceback" not in out
    assert f"rareflow runs delete {single}" in out


# -- damaged or missing runs.duckdb ------------------------------------------------------------


def _truncate_db(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _overwrite_db(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:4096] + b"x" * (len(data) - 4096))


def _empty_db(path: Path) -> None:
    path.write_bytes(b"")


DB_DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _truncate_db, "overwritten": _overwrite_db, "emptied": _empty_db,
}


@pytest.mark.parametrize("damage", sorted(DB_DAMAGE))
def test_damaged_database_is_a_corrupt_store_error(
    store: tuple[Path, str, str], damage: str
) -> None:
    root, single, _ = store
    db = root / "runs.duckdb"
    DB_DAMAGE[damage](db)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    for read_only in (True, False):
        with pytest.raises(CorruptStoreError) as caught, RunStore(
            root, read_only=read_only
        ) as st:
            st.list_runs()
        text = str(caught.value)
        assert str(db.resolve()) in text and "backup" in text and "\n" not in text
    code, out = _run("runs", "list", "--store", str(root))
    assert code != 0 and "runs.duckdb" in out and "Traceback" not in out
    code, out = _run("report", single, "--store", str(root), "--out", str(root / "r.html"))
    assert code != 0 and "runs.duckdb" in out and "Traceback" not in out
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing deleted


def test_missing_database_is_refused_by_readers_too(store: tuple[Path, str, str]) -> None:
    """Before, a reader saw an empty store and said the run did not exist."""
    root, single, _ = store
    (root / "runs.duckdb").unlink()
    with pytest.raises(MissingDatabaseError, match="backup"):
        RunStore(root, read_only=True)
    for args in (["runs", "list"], ["runs", "show", single],
                 ["report", single, "--out", str(root / "r.html")]):
        code, out = _run(*args, "--store", str(root))
        assert code != 0 and "lost its database" in out, (args, out)
