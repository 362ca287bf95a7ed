"""The metadata database ``runs.duckdb``: schema, and short-lived attachments of it.

Tables: ``runs`` (one row per run), ``draws`` (one row per finished draw: ``done`` or ``failed``
with its error), ``layouts`` (each distinct Dataset layout once, shared by draws) and
``store_info`` (schema version) and ``deleted_runs`` (runs whose rows are deleted but whose
files may not be yet: the only run folders a cleanup removes).

The file is never held open between operations. Each :class:`MetadataDB` owns a private
in-memory DuckDB engine and ``ATTACH``-es the file for the span of one operation -- about a
millisecond to read, a few to write -- then ``DETACH``-es it, which releases DuckDB's file lock
so that other processes (a ``rareflow runs list`` while an ensemble writes) get their turn.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from rareflow.store.errors import MissingDatabaseError, StoreError, StoreNotWritableError
from rareflow.store.integrity import damaged_database_error
from rareflow.store.locking import process_lock, retry_locked

SCHEMA_VERSION = "1"
ALIAS = "rs"

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS store_info (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY,
        run_key VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        scenario_name VARCHAR NOT NULL,
        scenario_text VARCHAR NOT NULL,
        data_version VARCHAR NOT NULL,
        code_version VARCHAR NOT NULL,
        seed BIGINT NOT NULL,
        n_draws INTEGER NOT NULL,
        params VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS layouts (
        layout_id VARCHAR PRIMARY KEY,
        layout VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS draws (
        run_id VARCHAR NOT NULL,
        draw INTEGER NOT NULL,
        status VARCHAR NOT NULL,
        error VARCHAR,
        attempts INTEGER NOT NULL,
        layout_id VARCHAR,
        attrs VARCHAR,
        n_bytes BIGINT NOT NULL DEFAULT 0,
        updated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (run_id, draw)
    )""",
    """CREATE TABLE IF NOT EXISTS deleted_runs (run_id VARCHAR PRIMARY KEY)""",
]


class MetadataDB:
    """Attach-per-operation access to one ``runs.duckdb`` file."""

    def __init__(self, path: Path, *, lock_timeout: float) -> None:
        self.path = path
        self.lock_timeout = lock_timeout
        self._engine = duckdb.connect(":memory:")
        self._local = threading.RLock()
        self._shared = process_lock(path)
        self._depth = 0

    @property
    def exists(self) -> bool:
        """Whether the database file has been created."""
        return self.path.exists()

    def engine_cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection to the private in-memory engine (for Parquet queries)."""
        return self._engine.cursor()

    def close(self) -> None:
        """Close the in-memory engine."""
        self._engine.close()

    @contextmanager
    def attach(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """Attach the file (as default database) for one operation and yield the connection.

        Nested use within one thread reuses the outer attachment (which must then be a write
        attachment if the inner one writes).
        """
        with self._shared, self._local:
            if self._depth:
                yield self._engine
                return
            con = self._engine
            mode = "" if write else " (READ_ONLY)"
            sql = f"ATTACH '{_quote(self.path)}' AS {ALIAS}{mode}"

            def do_attach() -> None:
                con.execute(f"DETACH DATABASE IF EXISTS {ALIAS}")
                con.execute(sql)

            try:
                retry_locked(do_attach, timeout=self.lock_timeout, what=f"run store {self.path}")
            except duckdb.Error as exc:
                raise self._attach_error(exc, write=write) from exc
            self._depth += 1
            try:
                con.execute(f"USE {ALIAS}")
                yield con
            except duckdb.Error as exc:
                if _is_corruption(exc):
                    raise damaged_database_error(self.path, exc) from exc
                raise
            finally:
                self._depth -= 1
                con.execute("USE memory")
                self._detach(con)

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Attach for writing and run the body in one transaction (rolled back on error)."""
        with self.attach(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            self._commit(con)

    def _attach_error(self, exc: duckdb.Error, *, write: bool) -> StoreError:
        """The store error for a failed ``ATTACH`` (not a lock conflict: those are retried)."""
        if write and _is_read_only_failure(exc):
            return StoreNotWritableError(
                f"run store {self.path.parent.resolve()} is read-only: its database "
                f"{self.path.name} cannot be written ({' '.join(str(exc).split())[:200]}); "
                "reading commands work, to write give a writable folder with --store"
            )
        if not self.path.exists():
            return MissingDatabaseError(
                f"run store {self.path.parent.resolve()} has lost its database {self.path.name}; "
                f"restore {self.path.name} from a backup"
            )
        return damaged_database_error(self.path, exc)

    def _commit(self, con: duckdb.DuckDBPyConnection) -> None:
        """Commit the open transaction (its own step, so that tests can make it fail)."""
        con.execute("COMMIT")

    def _detach(self, con: duckdb.DuckDBPyConnection) -> None:
        """Detach the file, which checkpoints it: a commit may be in the WAL and this still fail."""
        con.execute(f"DETACH DATABASE IF EXISTS {ALIAS}")

    def ensure_schema(self) -> None:
        """Create the tables if missing and check the schema version."""
        with self.transaction() as con:
            for statement in SCHEMA:
                con.execute(statement)
            con.execute(
                "INSERT INTO store_info VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
                [SCHEMA_VERSION],
            )
            row = con.execute(
                "SELECT value FROM store_info WHERE key = 'schema_version'"
            ).fetchone()
        if row is None or row[0] != SCHEMA_VERSION:
            found = None if row is None else row[0]
            raise StoreError(
                f"run store {self.path} has schema version {found}; "
                f"this rareflow reads version {SCHEMA_VERSION}"
            )


def _is_corruption(exc: duckdb.Error) -> bool:
    """Whether a DuckDB error while using the attached file means the file is damaged."""
    text = str(exc).lower()
    return any(sign in text for sign in (
        "corrupt", "could not read enough bytes", "not a valid duckdb database",
        "checksum", "failed to read database header",
    ))


def _is_read_only_failure(exc: duckdb.Error) -> bool:
    """Whether an ``ATTACH`` for writing failed because the file or folder cannot be written."""
    text = str(exc).lower()
    return any(sign in text for sign in ("read-only file system", "permission denied"))


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
