"""The run store: run metadata in DuckDB, one Parquet file per variable and draw.

```
<root>/.rareflow-store                               marker: this folder is a run store
<root>/runs.duckdb                                   runs, draws (status, error), layouts
<root>/.writer.lock                                  flock held during each write
<root>/.rareflow-staging/<session>/                  each live writer's staged draws
<root>/results/<run_id>/draw=<n>/<variable>.parquet  tidy table: one column per dim, value,
                                                     run_id, draw
```

A float variable's files hold only its non-zero rows (a missing row is a 0; -0.0 and NaN are
kept), other variables every cell (see :mod:`rareflow.store.codec`; draws stored with layout
version 1 hold every cell of every variable). :meth:`RunStore.load_result` and
:meth:`RunStore.load_variable` restore the missing rows; :meth:`RunStore.query` shows the files
as they are.

Writes are atomic per draw (see :mod:`rareflow.store.files`): the Parquet files are staged in
the writer's own session folder (:mod:`rareflow.store.sessions`), then, holding the writer lock
and inside the DuckDB transaction that records them as ``done``, moved onto ``draw=<n>`` with
one rename. A committed draw is never replaced. Reads take the list of done draws from DuckDB,
so a draw published but not recorded is never seen, counts as not done, and is redone by a
resumed ensemble. If the commit fails, its draws' files are removed only once the database
shows they are not done; if that cannot be read, they stay for a later cleanup to decide.

The store deletes only what it can prove it wrote (:mod:`rareflow.store.ownership`): folders
of deleted runs, uncommitted ``draw=<n>`` folders of its runs, and sessions whose writer is
gone. It refuses to write to a folder whose database is missing.

A damaged store is reported, never read around: every read of a missing, truncated or unreadable
result file, or of a damaged ``runs.duckdb``, raises
:class:`~rareflow.store.errors.CorruptStoreError` naming the run, the file and how to recover
(:mod:`rareflow.store.integrity`); ``list_runs(check_files=True)`` marks damaged runs cheaply.
A read-only store (``read_only=True``) writes nothing, so it works on a read-only folder or
mount; a writable open of one raises :class:`~rareflow.store.errors.StoreNotWritableError`.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xarray as xr

from rareflow.store import files, integrity, jsonvalues
from rareflow.store.codec import (
    DRAW_COLUMN,
    VALUE_COLUMN,
    check_variable_name,
    decode_dataset,
    encode_dataset,
    full_rows,
    layout_from_text,
)
from rareflow.store.errors import (
    AmbiguousRunError,
    CorruptStoreError,
    DrawNotFoundError,
    DrawStateError,
    RunNotFoundError,
    StoreNotWritableError,
    StoreReadOnlyError,
    VariableNotFoundError,
)
from rareflow.store.integrity import Damage
from rareflow.store.locking import writer_lock
from rareflow.store.metadata import MetadataDB
from rareflow.store.ownership import check_readable, check_root, mark
from rareflow.store.runs import (
    RunInfo,
    new_run_id,
    params_json,
    run_key,
    validate_run_args,
)
from rareflow.store.sessions import WriterSession, claim_stale, live_claims, staging_root
from rareflow.store.staging import DrawFiles, StagedDraw, stage_encoded, stage_files

DB_FILE = "runs.duckdb"
DEFAULT_ROOT = Path("rareflow-runs")

_RUN_COLUMNS = (
    "r.run_id, r.run_key, r.kind, r.scenario_name, r.scenario_text, r.data_version, "
    "r.code_version, r.seed, r.n_draws, r.params, r.created_at"
)
_RUN_SELECT = f"""
    SELECT {_RUN_COLUMNS},
        count(*) FILTER (WHERE d.status = 'done') AS n_done,
        count(*) FILTER (WHERE d.status = 'failed') AS n_failed,
        coalesce(sum(d.n_bytes), 0) AS n_bytes,
        list(DISTINCT d.layout_id) FILTER (WHERE d.layout_id IS NOT NULL) AS layout_ids
    FROM runs r LEFT JOIN draws d USING (run_id)
"""
_RUN_GROUP = f" GROUP BY {_RUN_COLUMNS}"
#: Damaged files named per run by ``list_runs(check_files=True)`` (the rest are counted).
_DAMAGE_SHOWN = 3
#: Threads that write (and fsync) the files of draws encoded elsewhere (``commit_files``):
#: parallel fsyncs cost about a tenth of the same fsyncs in turn on a loaded ext4 disk.
_WRITER_THREADS = 8
#: ``errno`` values of a folder or file that cannot be written.
_NOT_WRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


#: ``result(run_id, variable)`` in :meth:`RunStore.query`: the done draws' rows of a variable.
#: A glob skips missing files, so it raises (naming the file) if a done draw whose layout has
#: the variable has no file.
_RESULT_MACRO = f"""
CREATE OR REPLACE TEMP MACRO result(run, var) AS TABLE
SELECT * FROM read_parquet('results/' || run || '/draw=*/' || var || '.parquet',
    hive_partitioning = true, hive_types = {{'{DRAW_COLUMN}': BIGINT}}, union_by_name = true)
WHERE {DRAW_COLUMN} IN (SELECT draw FROM temp.main.draws WHERE run_id = run AND status = 'done')
AND coalesce((
    SELECT error('results/' || run || '/draw=' || min(d.draw) || '/' || var
                 || '.parquet of a done draw is missing')
    FROM temp.main.draws d JOIN temp.main.layouts l USING (layout_id)
    WHERE d.run_id = run AND d.status = 'done'
    AND json_exists(l.layout, '$.data_vars."' || var || '"')
    AND d.draw NOT IN (
        SELECT CAST(regexp_extract(g.file, '{files.DRAW_PREFIX}(\\d+)/', 1) AS BIGINT)
        FROM glob('results/' || run || '/draw=*/' || var || '.parquet') g)
), true)
"""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _to_frame(relation: duckdb.DuckDBPyRelation | None) -> pd.DataFrame:
    """A query result as a DataFrame (empty for statements that return no rows)."""
    if relation is None:
        return pd.DataFrame()
    frame: pd.DataFrame = relation.to_arrow_table().to_pandas()
    return frame


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class RunStore:
    """An embedded store of runs: DuckDB metadata plus Parquet results under ``root``.

    Open with ``read_only=True`` to only read (never creates or cleans anything). A writable
    store creates ``root`` if needed and removes files left by interrupted writes (only files
    it can prove it wrote; it refuses a folder that lost its database or holds foreign
    results, see :mod:`rareflow.store.ownership`). Both kinds
    may be used while another process writes: each operation holds the database for
    milliseconds and waits up to ``lock_timeout`` seconds for it before raising
    :class:`~rareflow.store.errors.StoreLockedError`. Set ``durable=False`` to skip fsync
    (faster; a process crash is still safe, a power loss may lose recent draws).
    """

    def __init__(
        self,
        root: Path | str = DEFAULT_ROOT,
        *,
        read_only: bool = False,
        lock_timeout: float = 30.0,
        durable: bool = True,
    ) -> None:
        self.root = Path(root)
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        self.durable = durable
        self._db = MetadataDB(self.root / DB_FILE, lock_timeout=lock_timeout)
        self._write_guard = threading.RLock()
        self._write_depth = 0
        self._layouts: dict[str, dict[str, Any]] = {}
        self._session: WriterSession | None = None
        if read_only:
            check_readable(self.root, self._db.path)
            return
        try:
            self._open_for_writing()
        except OSError as exc:
            self.close()
            if exc.errno in _NOT_WRITABLE:
                raise StoreNotWritableError(
                    f"run store {self.root.resolve()} is read-only ({exc.strerror}: "
                    f"{exc.filename}); reading commands work, to write give a writable folder "
                    "with --store"
                ) from exc
            raise
        except BaseException:
            self.close()
            raise

    @staticmethod
    def check_writable(root: Path | str) -> None:
        """Refuse now, creating nothing, a folder a writable store could not be opened in.

        Raises what opening it for writing would: a folder with foreign ``results/`` or a lost
        database (:mod:`rareflow.store.ownership`), or one on a read-only file system or
        without write permission. Callers that work a long time before storing (a run)
        check first, so the user is told before the work, not after it.
        """
        root = Path(root)
        check_root(root, root / DB_FILE)
        existing = next(p for p in (root, *root.resolve().parents) if p.exists())
        if not os.access(existing, os.W_OK):
            raise StoreNotWritableError(
                f"run store {root.resolve()} cannot be written ({existing} is read-only); "
                "reading commands work, to write give a writable folder with --store"
            )

    def _open_for_writing(self) -> None:
        check_root(self.root, self._db.path)  # before creating anything in the folder
        self.root.mkdir(parents=True, exist_ok=True)
        with self._writing():
            check_root(self.root, self._db.path)
            self._db.ensure_schema()
            mark(self.root)  # after the database: a marker without one means it was lost
            session = self._session = WriterSession(self.root)
            weakref.finalize(self, session.release)
            self._clean_strays()

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Remove this writer's session folder and release the in-memory DuckDB engine."""
        session, self._session = self._session, None
        if session is not None:
            session.remove()
        self._db.close()

    @property
    def staging_dir(self) -> Path:
        """Session folder of this writer, where it and its workers stage draws."""
        if self._session is None:
            raise StoreReadOnlyError(f"run store {self.root} is not open for writing")
        return self._session.folder

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "writable"
        return f"RunStore({str(self.root)!r}, {mode})"

    @contextmanager
    def _writing(self) -> Iterator[None]:
        if self.read_only:
            raise StoreReadOnlyError(f"run store {self.root} was opened read-only")
        with self._write_guard:
            if self._write_depth:
                self._write_depth += 1
                try:
                    yield
                finally:
                    self._write_depth -= 1
                return
            with writer_lock(self.root, timeout=self.lock_timeout):
                self._write_depth = 1
                try:
                    yield
                finally:
                    self._write_depth = 0

    def cleanup(self) -> list[Path]:
        """Remove what crashed writers left (only what the store wrote); return the paths.

        Removes the sessions of writers that are gone (a live writer's staged draws are never
        touched) and the single runs they created without storing a result, the folders of
        deleted runs, and uncommitted draw folders. Runs automatically when a writable store
        is opened.
        """
        with self._writing():
            return self._clean_strays()

    def prune(self) -> list[RunInfo]:
        """Clean up, then delete every single run with no stored result and no live writer.

        Such runs are left by a run killed before its result was stored (by a rareflow from
        before writer sessions, or whose session was already removed). Returns the deleted runs.
        """
        with self._writing():
            self._clean_strays()
            return self._prune_empty_singles(None, keep=live_claims(self.root, exclude=set()))

    def _clean_strays(self) -> list[Path]:
        removed: list[Path] = []
        stale = claim_stale(self.root)
        try:
            for session in stale:
                self._prune_empty_singles(set(session.claimed_runs()), keep=set())
            with self._db.attach(write=False) as con:
                known = [row[0] for row in con.execute("SELECT run_id FROM runs").fetchall()]
                rows = con.execute(
                    "SELECT run_id, draw FROM draws WHERE status = 'done'"
                ).fetchall()
                deleted = [row[0] for row in con.execute("SELECT run_id FROM deleted_runs")
                           .fetchall()]
            done: dict[str, set[int]] = {}
            for rid, draw in rows:
                done.setdefault(rid, set()).add(int(draw))
            removed += files.clean_strays(self.root, known, lambda rid: done.get(rid, set()),
                                          deleted)
            if deleted:
                with self._db.transaction() as con:
                    con.execute("DELETE FROM deleted_runs WHERE list_contains(?, run_id)",
                                [deleted])
            for session in stale:
                session.remove()
                removed.append(session.folder)
        finally:
            for session in stale:
                session.release()
        return removed

    def _prune_empty_singles(self, candidates: set[str] | None, keep: set[str]) -> list[RunInfo]:
        """Delete single runs without a done draw: those in ``candidates`` (all if None)."""
        with self._db.attach(write=False) as con:
            rows = con.execute(
                "SELECT run_id FROM runs r WHERE kind = 'single' AND NOT EXISTS "
                "(SELECT 1 FROM draws d WHERE d.run_id = r.run_id AND d.status = 'done') "
                "ORDER BY run_id"
            ).fetchall()
        ids = [row[0] for row in rows
               if (candidates is None or row[0] in candidates) and row[0] not in keep]
        return [self.delete_run(run_id) for run_id in ids]

    # -- runs --------------------------------------------------------------------------------

    def create_run(
        self,
        kind: str,
        scenario_name: str,
        scenario_text: str,
        data_version: str,
        code_version: str,
        seed: int,
        n_draws: int,
        params: Mapping[str, Any] | None = None,
    ) -> RunInfo:
        """Record a new run and return it; ``kind`` is ``single`` (one draw) or ``ensemble``."""
        validate_run_args(kind, n_draws, seed)
        key = run_key(kind, scenario_text, data_version, code_version, seed, n_draws, params)
        ptext = params_json(params)
        with self._writing(), self._db.transaction() as con:
            while True:
                run_id = new_run_id()
                taken = con.execute(
                    "SELECT 1 FROM runs WHERE run_id = $id "
                    "UNION ALL SELECT 1 FROM deleted_runs WHERE run_id = $id",
                    {"id": run_id},
                ).fetchone()
                if taken is None:
                    break
            # Claimed before the row exists: if this writer dies before storing the run's
            # result, the next writer deletes an empty single run (see cleanup).
            assert self._session is not None
            self._session.claim_run(run_id)
            con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, key, kind, scenario_name, scenario_text, data_version, code_version,
                 int(seed), int(n_draws), ptext, _now()],
            )
        return self.get_run(run_id)

    def find_run(
        self,
        kind: str,
        scenario_name: str,
        scenario_text: str,
        data_version: str,
        code_version: str,
        seed: int,
        n_draws: int,
        params: Mapping[str, Any] | None = None,
    ) -> RunInfo | None:
        """The newest run with the same inputs (to resume it), or None.

        Matches on the run key: kind, scenario text, data and code versions, seed, number of
        draws and params. ``scenario_name`` is a label and is not compared.
        """
        key = run_key(kind, scenario_text, data_version, code_version, seed, n_draws, params)
        runs = self._select_runs("WHERE r.run_key = ?", [key])
        return runs[0] if runs else None

    def extend_run(self, run_id: str, n_draws: int) -> RunInfo:
        """Raise an ensemble's number of draws to ``n_draws``, keeping the draws it has.

        Its run key becomes that of the same inputs with ``n_draws`` draws, so
        :meth:`find_run` finds it again with the new number (draw ``i`` depends only on the
        seed and ``i``, so the first draws of the longer run are those already stored).
        """
        with self._writing():
            run = self.get_run(run_id)
            if run.kind != "ensemble" or int(n_draws) <= run.n_draws:
                raise ValueError(f"run {run.run_id} ({run.kind}, {run.n_draws} draws) cannot "
                                 f"be extended to {n_draws} draws")
            key = run_key(run.kind, run.scenario_text, run.data_version, run.code_version,
                          run.seed, n_draws, run.params)
            with self._db.transaction() as con:
                con.execute("UPDATE runs SET n_draws = ?, run_key = ? WHERE run_id = ?",
                            [int(n_draws), key, run.run_id])
        return self.get_run(run.run_id)

    def list_runs(self, *, check_files: bool = False) -> list[RunInfo]:
        """All runs, newest first; with ``check_files`` damaged runs have ``damage`` set.

        The check reads no rows: per result file of every done draw one ``stat`` and 12 bytes
        (see :mod:`rareflow.store.integrity`).
        """
        runs = self._select_runs("", [])
        return self._with_damage(runs) if check_files else runs

    def get_run(self, run_id: str, *, check_files: bool = False) -> RunInfo:
        """The run with this id or unique id prefix (``check_files``: see :meth:`list_runs`)."""
        run = self._get_run(run_id)
        return self._with_damage([run])[0] if check_files else run

    def damaged_draws(self, run_id: str) -> list[Damage]:
        """Damaged files of the run's done draws (missing, truncated, unreadable footers)."""
        full_id = self.get_run(run_id).run_id
        return self._damage_of([full_id]).get(full_id, [])

    def _with_damage(self, runs: list[RunInfo]) -> list[RunInfo]:
        damage = self._damage_of([run.run_id for run in runs])
        out = []
        for run in runs:
            found = damage.get(run.run_id, [])
            text = [str(item) for item in found[:_DAMAGE_SHOWN]]
            if len(found) > _DAMAGE_SHOWN:
                text.append(f"and {len(found) - _DAMAGE_SHOWN} more damaged files")
            out.append(replace(run, damage=tuple(text)) if text else run)
        return out

    def _damage_of(self, run_ids: list[str]) -> dict[str, list[Damage]]:
        if not run_ids or not self._db.exists:
            return {}
        with self._db.attach(write=False) as con:
            rows = con.execute(
                "SELECT run_id, draw, layout_id, n_bytes FROM draws "
                "WHERE status = 'done' AND list_contains(?, run_id) ORDER BY run_id, draw",
                [run_ids],
            ).fetchall()
            layouts = self._layouts_for({row[2] for row in rows}, con)
        damage: dict[str, list[Damage]] = {}
        for rid, draw, lid, n_bytes in rows:
            found = integrity.check_draw(self.root, rid, int(draw),
                                         list(layouts[lid]["data_vars"]), int(n_bytes or 0))
            if found:
                damage.setdefault(rid, []).extend(found)
        return damage

    def forget_draws(self, run_id: str, draws: Iterable[int]) -> None:
        """Mark done draws as not done and remove their files, so that they can be redone.

        For draws whose files are damaged (:meth:`damaged_draws`): a resumed ensemble redoes
        them. The rows go first: a crash before the files are removed leaves folders of draws
        not done, which a cleanup removes.
        """
        wanted = sorted({int(d) for d in draws})
        if not wanted:
            return
        with self._writing():
            full_id = self.get_run(run_id).run_id
            with self._db.transaction() as con:
                con.execute("DELETE FROM draws WHERE run_id = ? AND list_contains(?, draw)",
                            [full_id, wanted])
            for draw in wanted:
                files.remove_draw(self.root, full_id, draw)

    def _get_run(self, run_id: str) -> RunInfo:
        if not run_id:
            raise RunNotFoundError("empty run id")
        escaped = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        runs = self._select_runs("WHERE r.run_id LIKE ? ESCAPE '\\'", [escaped + "%"])
        exact = [run for run in runs if run.run_id == run_id]
        if exact:
            return exact[0]
        if not runs:
            raise RunNotFoundError(f"no run {run_id!r} in {self.root}")
        if len(runs) > 1:
            ids = ", ".join(sorted(run.run_id for run in runs))
            raise AmbiguousRunError(f"run id prefix {run_id!r} matches several runs: {ids}")
        return runs[0]

    def delete_run(self, run_id: str) -> RunInfo:
        """Delete a run (id or unique prefix): its rows, then its files; returns the deleted run."""
        with self._writing():
            run = self.get_run(run_id)
            with self._db.transaction() as con:
                con.execute("DELETE FROM draws WHERE run_id = ?", [run.run_id])
                con.execute("DELETE FROM runs WHERE run_id = ?", [run.run_id])
                con.execute(
                    "DELETE FROM layouts WHERE layout_id NOT IN "
                    "(SELECT layout_id FROM draws WHERE layout_id IS NOT NULL)"
                )
                con.execute("INSERT INTO deleted_runs VALUES (?) ON CONFLICT DO NOTHING",
                            [run.run_id])
            # A crash here leaves the folder of a run recorded as deleted: the next cleanup
            # removes it (and only such run folders).
            files.remove_run(self.root, run.run_id)
            with self._db.transaction() as con:
                con.execute("DELETE FROM deleted_runs WHERE run_id = ?", [run.run_id])
        return run

    def _select_runs(self, where: str, params: list[Any]) -> list[RunInfo]:
        if not self._db.exists:
            return []
        with self._db.attach(write=False) as con:
            rows = con.execute(
                f"{_RUN_SELECT} {where} {_RUN_GROUP} ORDER BY r.created_at DESC, r.run_id",
                params,
            ).fetchall()
            layouts = self._layouts_for({lid for row in rows for lid in (row[-1] or [])}, con)
        return [self._run_info(row, layouts) for row in rows]

    def _layouts_for(
        self, layout_ids: set[str], con: duckdb.DuckDBPyConnection
    ) -> dict[str, dict[str, Any]]:
        missing = sorted(layout_ids - self._layouts.keys())
        if missing:
            found = con.execute(
                "SELECT layout_id, layout FROM layouts WHERE list_contains(?, layout_id)",
                [missing],
            ).fetchall()
            for lid, text in found:
                self._layouts[lid] = layout_from_text(text)
        return {lid: self._layouts[lid] for lid in layout_ids if lid in self._layouts}

    @staticmethod
    def _run_info(row: tuple[Any, ...], layouts: Mapping[str, dict[str, Any]]) -> RunInfo:
        variables: list[str] = []
        for lid in sorted(row[-1] or []):
            for name in layouts[lid]["data_vars"]:
                if name not in variables:
                    variables.append(name)
        created = row[10]
        return RunInfo(
            run_id=row[0], run_key=row[1], kind=row[2], scenario_name=row[3],
            scenario_text=row[4], data_version=row[5], code_version=row[6], seed=int(row[7]),
            n_draws=int(row[8]), params=jsonvalues.loads(row[9]),
            created_at=created.replace(tzinfo=UTC), n_done=int(row[11]),
            n_failed=int(row[12]), n_bytes=int(row[13]), variables=tuple(variables),
        )

    # -- draws -------------------------------------------------------------------------------

    def write_draw(self, run_id: str, draw: int, result: xr.Dataset) -> None:
        """Store one draw's result Dataset atomically and mark the draw ``done``.

        The Dataset must not have a ``draw`` dimension (write draws one at a time). A draw
        that is already done cannot be written again; a failed one can.
        """
        self.write_draws(run_id, {draw: result})

    def write_draws(self, run_id: str, results: Mapping[int, xr.Dataset]) -> None:
        """Store several draws and mark them ``done`` in one transaction (all or none).

        Cheaper per draw than :meth:`write_draw` (one database round trip for the batch), for
        drivers that receive draws in batches. Every Dataset is validated before anything is
        written.
        """
        if not results:
            return
        full_id = self.get_run(run_id).run_id
        encoded = {int(draw): encode_dataset(ds) for draw, ds in results.items()}
        staged: list[StagedDraw] = []
        with self._writing():
            try:
                with self._db.attach(write=False) as con:
                    self._check_writable(con, full_id, list(encoded))
                for draw, enc in encoded.items():
                    staged.append(stage_encoded(self.staging_dir, full_id, draw, enc,
                                                durable=self.durable))
                self.commit_staged(full_id, staged)
            finally:
                self._discard(staged)

    def commit_staged(self, run_id: str, staged: Sequence[StagedDraw]) -> list[int]:
        """Publish and record draws that :func:`~rareflow.store.staging.stage_draw` staged.

        One transaction for the batch: all are marked ``done`` or none. A draw already done
        (by another writer of the same run) is skipped and its staged copy discarded: a
        committed draw is never replaced. Returns the draws recorded by this call. Raises
        :class:`DrawStateError` if a staged folder is missing or not in this store; the caller
        then re-runs the draw.

        Order: the staged folders are moved onto ``draw=<n>`` inside the transaction, then it
        commits. If anything fails, the moved folders are removed only for draws that a fresh
        read of the database shows are not done -- never when it cannot be read (a commit may
        have reached the WAL while its checkpoint failed), so a failure at any point leaves each
        draw either complete or absent.
        """
        if not staged:
            return []
        published: list[StagedDraw] = []
        full_id = run_id
        try:
            with self._writing():
                try:
                    with self._db.transaction() as con:
                        full_id, fresh = self._check_commit(con, run_id, staged)
                        for item in fresh:
                            files.publish_staged(self.root, full_id, item.draw,
                                                 Path(item.folder), durable=self.durable)
                            published.append(item)
                        if fresh:
                            self._insert_done(con, full_id, fresh)
                except BaseException:
                    self._undo_publish(full_id, published)
                    raise
        finally:
            self._discard(staged)
        return [item.draw for item in published]

    def commit_files(self, run_id: str, drawn: Sequence[DrawFiles]) -> list[int]:
        """Stage and commit draws encoded in other processes (:func:`.staging.encode_draw_files`).

        Like :meth:`commit_staged` (one transaction, a draw already done is skipped), for
        drivers whose workers cannot see the store: the workers send the files' bytes, this
        process writes them. Returns the draws recorded by this call.
        """
        staged: list[StagedDraw] = []
        try:
            with ThreadPoolExecutor(_WRITER_THREADS, thread_name_prefix="store-write") as pool:
                for item in drawn:
                    staged.append(stage_files(self.staging_dir, item, durable=self.durable,
                                              executor=pool))
            return self.commit_staged(run_id, staged)
        finally:
            self._discard(staged)

    def _check_commit(
        self, con: duckdb.DuckDBPyConnection, run_id: str, staged: Sequence[StagedDraw]
    ) -> tuple[str, list[StagedDraw]]:
        """The run's full id and the staged draws to record (not done, first of each draw)."""
        row = con.execute("SELECT run_id FROM runs WHERE run_id = ?", [run_id]).fetchone()
        full_id = str(row[0]) if row is not None else self.get_run(run_id).run_id
        draws = sorted({item.draw for item in staged})
        done = {int(r[0]) for r in con.execute(
            "SELECT draw FROM draws WHERE run_id = ? AND status = 'done' "
            "AND list_contains(?, draw)", [full_id, draws]).fetchall()}
        self._check_writable(con, full_id, [d for d in draws if d not in done])
        base = staging_root(self.root).resolve()
        fresh: dict[int, StagedDraw] = {}
        for item in staged:
            if item.run_id != full_id:
                raise DrawStateError(f"draw {item.draw} was staged for run {item.run_id}, "
                                     f"not {full_id}")
            folder = Path(item.folder)
            if folder.resolve().parent.parent != base:
                raise DrawStateError(f"draw {item.draw} was staged in {folder}, outside the "
                                     f"staging folder of run store {self.root}")
            if item.draw in done or item.draw in fresh:
                continue
            if not folder.is_dir():
                raise DrawStateError(f"the staged files of draw {item.draw} of run {full_id} "
                                     "are missing; run the draw again")
            fresh[item.draw] = item
        return full_id, list(fresh.values())

    def _undo_publish(self, run_id: str, published: Sequence[StagedDraw]) -> None:
        """After a failed commit, remove the published folders of draws surely not done."""
        if not published:
            return
        try:
            with self._db.attach(write=False) as con:
                done = {int(r[0]) for r in con.execute(
                    "SELECT draw FROM draws WHERE run_id = ? AND status = 'done'", [run_id]
                ).fetchall()}
        except Exception:  # cannot tell what was committed: keep the files, cleanup decides
            return
        for item in published:
            if item.draw not in done:
                files.remove_draw(self.root, run_id, item.draw)

    def _discard(self, staged: Sequence[StagedDraw]) -> None:
        """Remove staged folders that were not published (skipped, or their commit failed)."""
        base = staging_root(self.root).resolve()
        for item in staged:
            folder = Path(item.folder)
            if folder.is_dir() and folder.resolve().parent.parent == base:
                shutil.rmtree(folder, ignore_errors=True)

    def _insert_done(
        self, con: duckdb.DuckDBPyConnection, full_id: str, staged: Sequence[StagedDraw]
    ) -> None:
        """Record ``staged`` as done (inside the caller's transaction)."""
        # One statement per table for the batch: a statement per draw cost the driver
        # ≈ 4 ms of CPU a draw, taken from the workers on a small machine.
        layouts = {item.layout_id: item.layout_text for item in staged}
        con.executemany("INSERT INTO layouts VALUES (?, ?) ON CONFLICT DO NOTHING",
                        [list(pair) for pair in layouts.items()])
        batch = pa.table({
            "run_id": [full_id] * len(staged),
            "draw": pa.array([item.draw for item in staged], pa.int32()),
            "layout_id": [item.layout_id for item in staged],
            "attrs": [jsonvalues.dumps(item.attrs) for item in staged],
            "n_bytes": pa.array([item.n_bytes for item in staged], pa.int64()),
        })
        con.register("staged_batch", batch)
        try:
            con.execute(
                """INSERT INTO draws SELECT run_id, draw, 'done', NULL, 1, layout_id, attrs,
                    n_bytes, ? FROM staged_batch
                ON CONFLICT (run_id, draw) DO UPDATE SET status = 'done',
                    error = NULL, attempts = draws.attempts + 1,
                    layout_id = excluded.layout_id, attrs = excluded.attrs,
                    n_bytes = excluded.n_bytes, updated_at = excluded.updated_at""",
                [_now()],
            )
        finally:
            con.unregister("staged_batch")

    def record_failure(self, run_id: str, draw: int, error: str) -> None:
        """Mark a draw ``failed`` with its error text (a later ``write_draw`` may still succeed)."""
        with self._writing(), self._db.transaction() as con:
            full_id = self._check_writable(con, run_id, [draw])
            con.execute(
                """INSERT INTO draws VALUES (?, ?, 'failed', ?, 1, NULL, NULL, 0, ?)
                ON CONFLICT (run_id, draw) DO UPDATE SET status = 'failed',
                    error = excluded.error, attempts = draws.attempts + 1,
                    layout_id = NULL, attrs = NULL, n_bytes = 0,
                    updated_at = excluded.updated_at""",
                [full_id, draw, str(error), _now()],
            )

    def _check_writable(
        self, con: duckdb.DuckDBPyConnection, run_id: str, draws: list[int]
    ) -> str:
        """Resolve ``run_id`` and check that ``draws`` may be written; returns the full id."""
        row = con.execute("SELECT run_id, n_draws FROM runs WHERE run_id = ?", [run_id]).fetchone()
        if row is None:
            run = self.get_run(run_id)  # prefix lookup, reusing the open attachment
            row = (run.run_id, run.n_draws)
        full_id, n_draws = str(row[0]), int(row[1])
        for draw in draws:
            if not 0 <= draw < n_draws:
                raise DrawStateError(
                    f"draw {draw} is out of range for run {full_id} ({n_draws} draws)"
                )
        done = con.execute(
            "SELECT draw FROM draws WHERE run_id = ? AND status = 'done' "
            "AND list_contains(?, draw)",
            [full_id, draws],
        ).fetchall()
        if done:
            numbers = ", ".join(str(r[0]) for r in sorted(done))
            raise DrawStateError(f"draw(s) {numbers} of run {full_id} are already done")
        return full_id

    def completed_draws(self, run_id: str) -> set[int]:
        """Draws recorded as done."""
        return self._draws_with_status(run_id, "done")

    def failed_draws(self, run_id: str) -> set[int]:
        """Draws recorded as failed (and not redone since)."""
        return self._draws_with_status(run_id, "failed")

    def draw_errors(self, run_id: str) -> dict[int, str]:
        """Error text of each failed draw."""
        run = self.get_run(run_id)
        with self._db.attach(write=False) as con:
            rows = con.execute(
                "SELECT draw, error FROM draws WHERE run_id = ? AND status = 'failed' "
                "ORDER BY draw",
                [run.run_id],
            ).fetchall()
        return {int(draw): str(error) for draw, error in rows}

    def _draws_with_status(self, run_id: str, status: str) -> set[int]:
        run = self.get_run(run_id)
        with self._db.attach(write=False) as con:
            rows = con.execute(
                "SELECT draw FROM draws WHERE run_id = ? AND status = ?", [run.run_id, status]
            ).fetchall()
        return {int(row[0]) for row in rows}

    def _done_draws(
        self, run: RunInfo, draws: Iterable[int] | None
    ) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
        """(draw, layout, encoded attrs) of done draws, by draw number."""
        with self._db.attach(write=False) as con:
            rows = con.execute(
                "SELECT draw, layout_id, attrs FROM draws "
                "WHERE run_id = ? AND status = 'done' ORDER BY draw",
                [run.run_id],
            ).fetchall()
            layouts = self._layouts_for({row[1] for row in rows}, con)
        wanted = None if draws is None else {int(d) for d in draws}
        return [
            (int(draw), layouts[lid], jsonvalues.loads(attrs))
            for draw, lid, attrs in rows
            if wanted is None or int(draw) in wanted
        ]

    # -- reading -----------------------------------------------------------------------------

    def load_result(self, run_id: str, draw: int | None = None) -> xr.Dataset:
        """The stored Dataset of one draw, exactly as written.

        With ``draw=None``: a single run's only draw, or for an ensemble all done draws
        concatenated along a new ``draw`` dimension (failed and missing draws left out; this
        loads every draw into memory -- use :meth:`load_variable` for large ensembles).
        """
        run = self.get_run(run_id)
        if draw is None and run.kind == "single":
            draw = 0
        done = self._done_draws(run, None if draw is None else [draw])
        if draw is not None:
            if not done:
                raise DrawNotFoundError(self._why_missing(run, draw))
            return self._read_draw(run.run_id, *done[0])
        if not done:
            raise DrawNotFoundError(f"run {run.run_id} has no completed draws")
        datasets = [self._read_draw(run.run_id, *item) for item in done]
        index = pd.Index([item[0] for item in done], name=DRAW_COLUMN)
        return xr.concat(
            [ds.drop_vars(DRAW_COLUMN, errors="ignore") for ds in datasets],
            dim=index,
            data_vars="all",
            coords="different",
            compat="equals",
            join="outer",
            combine_attrs="drop_conflicts",
        )

    def _why_missing(self, run: RunInfo, draw: int) -> str:
        if not 0 <= draw < run.n_draws:
            return f"draw {draw} is out of range for run {run.run_id} ({run.n_draws} draws)"
        errors = self.draw_errors(run.run_id)
        if draw in errors:
            return f"draw {draw} of run {run.run_id} failed: {errors[draw]}"
        return f"draw {draw} of run {run.run_id} is not done yet"

    def _read_draw(
        self, run_id: str, draw: int, layout: dict[str, Any], attrs: dict[str, Any]
    ) -> xr.Dataset:
        tables: dict[str, pa.Table] = {}
        for name in layout["data_vars"]:
            path = files.variable_file(self.root, run_id, draw, name)
            try:
                tables[name] = pq.read_table(path)
            except (OSError, pa.ArrowException) as exc:
                raise self._damaged(run_id, draw, path, exc) from exc
        try:
            return decode_dataset(layout, attrs, tables)
        except (ValueError, KeyError, IndexError, pa.ArrowException) as exc:
            path = files.draw_dir(self.root, run_id, draw)
            raise integrity.damaged_file_error(self.root, Damage(
                run_id, draw, path, f"does not match its recorded layout ({exc})")) from exc

    def _damaged(self, run_id: str, draw: int, path: Path, exc: BaseException) -> CorruptStoreError:
        problem, _ = integrity.check_file(path)
        if problem is None:
            problem = "cannot be read (" + " ".join(str(exc).split())[:300] + ")"
        return integrity.damaged_file_error(self.root, Damage(run_id, draw, path, problem))

    def load_variable(
        self, run_id: str, variable: str, draws: Iterable[int] | None = None
    ) -> pd.DataFrame:
        """One variable across done draws as a tidy frame: ``draw``, one column per dim, ``value``.

        One row per cell of every done draw (the zero rows a float variable's files leave out
        are restored), ordered by draw, then in C order of the variable's dims. DuckDB reads
        the Parquet files directly, so no draw is ever built as an xarray object.
        """
        frame: pd.DataFrame = self.variable_table(run_id, variable, draws).to_pandas()
        return frame

    def variable_table(
        self, run_id: str, variable: str, draws: Iterable[int] | None = None
    ) -> pa.Table:
        """:meth:`load_variable` as an Arrow table (labels dictionary-encoded), not pandas."""
        run = self.get_run(run_id)
        check_variable_name(variable)
        done = self._done_draws(run, draws)
        having = [(draw, layout) for draw, layout, _ in done if variable in layout["data_vars"]]
        if not having:
            if not done:
                raise DrawNotFoundError(f"run {run.run_id} has no completed draws to read")
            known = sorted({name for _, layout, _ in done for name in layout["data_vars"]})
            raise VariableNotFoundError(
                f"run {run.run_id} has no variable {variable!r}; it has: {', '.join(known)}"
            )
        table = self._read_rows(run.run_id, variable, having)
        return full_rows(variable, table, having)

    def _read_rows(
        self, run_id: str, variable: str, having: Sequence[tuple[int, Mapping[str, Any]]]
    ) -> pa.Table:
        """The stored rows of ``variable`` in the draws of ``having``, in draw order."""
        dims = having[0][1]["data_vars"][variable]["dims"]
        paths = [str(files.variable_file(self.root, run_id, d, variable)) for d, _ in having]
        columns = ", ".join(_ident(c) for c in [DRAW_COLUMN, *dims, VALUE_COLUMN])
        # Files are listed in draw order and DuckDB keeps scan order (preserve_insertion_order),
        # so no sort is needed. Arrow then pandas is several times faster than DuckDB's .df().
        sql = (
            f"SELECT {columns} FROM read_parquet($files, hive_partitioning = true, "
            f"hive_types = {{'{DRAW_COLUMN}': BIGINT}}, union_by_name = true)"
        )
        cursor = self._db.engine_cursor()
        try:
            cursor.execute("SET preserve_insertion_order = true")
            return cursor.sql(sql, params={"files": paths}).to_arrow_table()
        except duckdb.Error as exc:
            found = integrity.error_from_message(self.root, str(exc))
            if found is None:
                for draw, _ in having:
                    path = files.variable_file(self.root, run_id, draw, variable)
                    if integrity.check_file(path)[0] is not None:
                        found = self._damaged(run_id, draw, path, exc)
                        break
            if found is None:
                raise
            raise found from exc
        finally:
            cursor.close()

    def variable_glob(self, run_id: str, variable: str) -> str:
        """Parquet glob of a variable across a run's draws, for hand-written DuckDB queries.

        The files hold the rows as stored: for a float variable only the non-zero ones (a
        missing row is a 0), so a ``count(*)`` or a mean over them is not one over all cells.
        The glob may include draws that are not (yet) recorded as done.
        """
        run = self.get_run(run_id)
        return files.variable_glob(self.root, run.run_id, check_variable_name(variable))

    def query(self, sql: str, params: Any = None) -> pd.DataFrame:
        """Run read-only SQL against a snapshot of the store, returning a DataFrame.

        Available: tables ``runs``, ``draws`` and ``layouts`` (copies taken when the call
        starts, so the database is not held while the query runs), the table macro
        ``result(run_id, variable)`` over the done draws of a variable (columns: dims, value,
        run_id, draw; ``run_id`` is null in files of stores older than that column), and
        ``read_parquet`` with paths relative to the store root
        (``results/<run_id>/draw=*/<variable>.parquet``). A damaged file raises
        :class:`~rareflow.store.errors.CorruptStoreError`; ``result`` also raises if a done
        draw's file is missing, which a hand-written glob cannot notice (it skips it).

        Both read the files as stored: a float variable holds only its non-zero rows (a
        missing row is a 0; -0.0 and NaN rows are kept), so sums are those of all cells but
        counts, means, minima, maxima and quantiles are over the stored rows only, and a
        filter such as ``value = 0`` finds nothing. Use :meth:`load_variable` for every cell.
        """
        cursor = self._db.engine_cursor()
        try:
            self._snapshot_into(cursor)
            root = str(self.root.resolve()).replace("'", "''")
            cursor.execute(f"SET file_search_path = '{root}'")
            cursor.execute(_RESULT_MACRO)
            try:
                return _to_frame(cursor.sql(sql, params=params))
            except duckdb.Error as exc:
                found = integrity.error_from_message(self.root, str(exc))
                if found is None:
                    raise
                raise found from exc
        finally:
            cursor.close()

    def _snapshot_into(self, cursor: duckdb.DuckDBPyConnection) -> None:
        if not self._db.exists:
            cursor.execute(
                "CREATE TEMP TABLE runs (run_id VARCHAR, run_key VARCHAR, kind VARCHAR, "
                "scenario_name VARCHAR, scenario_text VARCHAR, data_version VARCHAR, "
                "code_version VARCHAR, seed BIGINT, n_draws INTEGER, params VARCHAR, "
                "created_at TIMESTAMP)"
            )
            cursor.execute(
                "CREATE TEMP TABLE draws (run_id VARCHAR, draw INTEGER, status VARCHAR, "
                "error VARCHAR, attempts INTEGER, layout_id VARCHAR, attrs VARCHAR, "
                "n_bytes BIGINT, updated_at TIMESTAMP)"
            )
            cursor.execute("CREATE TEMP TABLE layouts (layout_id VARCHAR, layout VARCHAR)")
            return
        with self._db.attach(write=False):
            cursor.execute("CREATE TEMP TABLE runs AS SELECT * FROM rs.main.runs")
            cursor.execute("CREATE TEMP TABLE draws AS SELECT * FROM rs.main.draws")
            cursor.execute("CREATE TEMP TABLE layouts AS SELECT * FROM rs.main.layouts")
