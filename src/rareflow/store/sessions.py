"""Writer sessions: each writable store stages its draws in a private folder, locked while alive.

```
<root>/.rareflow-staging/w-<pid>-<hex>.lock   flock held by the writing process for its lifetime
<root>/.rareflow-staging/w-<pid>-<hex>/       draws staged by its workers, not yet committed
<root>/.rareflow-staging/w-<pid>-<hex>/runs   ids of the runs it created, one a line
```

A session's folder belongs to its writer alone: nobody else may remove it while its lock file is
locked. The kernel releases the lock when the process dies, so a folder whose lock can be taken
is provably abandoned (:func:`claim_stale`). Only names of this scheme are ever touched.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import uuid
from pathlib import Path

STAGING_DIR = ".rareflow-staging"
LOCK_SUFFIX = ".lock"
RUNS_FILE = "runs"
_SESSION_NAME = re.compile(r"w-\d+-[0-9a-f]{12}")


def staging_root(root: Path) -> Path:
    """Folder holding every writer session of the store at ``root``."""
    return root / STAGING_DIR


def _try_lock(path: Path) -> int | None:
    """Open ``path`` and take its flock without waiting; the descriptor, or None if busy/gone."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    return fd


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


class _LockedSession:
    """A session folder and the open, locked descriptor of its lock file."""

    def __init__(self, base: Path, name: str, fd: int) -> None:
        self.name = name
        self.folder = base / name
        self.lock_path = base / f"{name}{LOCK_SUFFIX}"
        self._fd: int | None = fd

    def claimed_runs(self) -> list[str]:
        """Ids of the runs this session created (as it recorded them)."""
        try:
            text = (self.folder / RUNS_FILE).read_text()
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [line for line in text.split() if line]

    def remove(self) -> None:
        """Delete the folder, then the lock file, then release the lock."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.lock_path.unlink(missing_ok=True)
        self.release()

    def release(self) -> None:
        """Release the lock (files stay; a later writer removes them once it sees them stale)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class WriterSession(_LockedSession):
    """The session of the calling writer: created and locked at once, removed by ``remove()``."""

    def __init__(self, root: Path) -> None:
        base = staging_root(root)
        base.mkdir(exist_ok=True)
        while True:
            name = f"w-{os.getpid()}-{uuid.uuid4().hex[:12]}"
            lock_path = base / f"{name}{LOCK_SUFFIX}"
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            # A cleaner may have taken the fresh lock and unlinked the file before we locked it.
            if _same_file(fd, lock_path):
                break
            os.close(fd)
        super().__init__(base, name, fd)
        self.folder.mkdir()

    def claim_run(self, run_id: str) -> None:
        """Record that this session creates ``run_id`` (before the run's row is written)."""
        with (self.folder / RUNS_FILE).open("a") as handle:
            handle.write(run_id + "\n")


def claim_stale(root: Path) -> list[_LockedSession]:
    """Lock every abandoned session of the store (its writer is gone) and return them.

    The caller deals with their claimed runs, then calls ``remove()`` on each. Sessions whose
    lock is held by a live writer -- in this process or another -- are left alone.
    """
    base = staging_root(root)
    if not base.is_dir():
        return []
    stale: list[_LockedSession] = []
    for entry in sorted(base.iterdir()):
        name = entry.name.removesuffix(LOCK_SUFFIX)
        if entry.name == name or not _SESSION_NAME.fullmatch(name):
            continue
        fd = _try_lock(entry)
        if fd is None:
            continue
        if not _same_file(fd, entry):
            os.close(fd)
            continue
        stale.append(_LockedSession(base, name, fd))
    return stale


def is_session_name(name: str) -> bool:
    """Whether ``name`` is a writer session's name (``w-<pid>-<hex>``)."""
    return _SESSION_NAME.fullmatch(name) is not None


def session_names(root: Path) -> set[str]:
    """Names of the sessions whose folders exist: live writers, and dead ones not yet removed.

    A session missing from this set has ended (its writer removed it, or a cleanup did).
    """
    base = staging_root(root)
    if not base.is_dir():
        return set()
    return {entry.name for entry in base.iterdir()
            if entry.is_dir() and _SESSION_NAME.fullmatch(entry.name)}


def live_claims(root: Path, exclude: set[str]) -> set[str]:
    """Runs claimed by sessions other than those named in ``exclude`` (call after claim_stale)."""
    base = staging_root(root)
    if not base.is_dir():
        return set()
    claimed: set[str] = set()
    for entry in base.iterdir():
        if entry.is_dir() and _SESSION_NAME.fullmatch(entry.name) and entry.name not in exclude:
            with contextlib.suppress(FileNotFoundError):
                claimed.update((entry / RUNS_FILE).read_text().split())
    return claimed
