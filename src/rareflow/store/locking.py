"""Locks: the writer lock file, and retrying on DuckDB's file lock.

DuckDB lets one process open a database file read-write, or any number read-only, but not both
at once. The store therefore never keeps ``runs.duckdb`` open: each operation attaches it for a
few milliseconds (see :mod:`rareflow.store.metadata`) and retries while another process holds it,
raising :class:`StoreLockedError` after ``timeout`` seconds.

Writers additionally take an exclusive ``flock`` on ``<root>/.writer.lock`` for the duration of
each write. It serialises writers (the design has one, the ensemble driver, but ``runs delete``
may run meanwhile) and makes it safe for whoever holds it to remove staging folders: no other
write can be in flight. The kernel releases it if the process dies.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from rareflow.store.errors import StoreLockedError

T = TypeVar("T")

WRITER_LOCK_FILE = ".writer.lock"
_FIRST_WAIT_S = 0.002
_MAX_WAIT_S = 0.1

_process_locks: dict[str, threading.RLock] = {}
_process_locks_guard = threading.Lock()


def process_lock(path: Path) -> threading.RLock:
    """One re-entrant lock per database file, shared by every store object of this process."""
    key = str(path.resolve())
    with _process_locks_guard:
        return _process_locks.setdefault(key, threading.RLock())


def is_lock_conflict(exc: BaseException) -> bool:
    """Whether a DuckDB error means another process holds the database file."""
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def retry_locked(action: Callable[[], T], *, timeout: float, what: str) -> T:
    """Run ``action``, retrying with backoff while DuckDB reports a lock conflict."""
    deadline = time.monotonic() + timeout
    wait = _FIRST_WAIT_S
    while True:
        try:
            return action()
        except duckdb.Error as exc:
            if not is_lock_conflict(exc):
                raise
            if time.monotonic() >= deadline:
                raise StoreLockedError(
                    f"{what} is locked by another process and stayed locked for {timeout:g} s "
                    f"(DuckDB: {exc}). Another rareflow command may be writing to this store; "
                    "retry when it has finished, or raise lock_timeout."
                ) from exc
        time.sleep(wait)
        wait = min(wait * 2, _MAX_WAIT_S)


@contextmanager
def writer_lock(root: Path, *, timeout: float) -> Iterator[None]:
    """Hold the store's exclusive writer lock, waiting up to ``timeout`` seconds for it."""
    path = root / WRITER_LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        wait = _FIRST_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                    raise StoreLockedError(
                        f"run store {root} is being written by another process (pid {holder}) "
                        f"and stayed busy for {timeout:g} s; retry when it has finished"
                    ) from exc
            time.sleep(wait)
            wait = min(wait * 2, _MAX_WAIT_S)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock
