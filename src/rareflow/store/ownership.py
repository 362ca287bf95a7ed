"""What the store may touch: the marker that says a folder is a run store, checked on open.

A writable store deletes files only where it can prove they are its own: folders of its naming
scheme (:mod:`rareflow.store.files`, :mod:`rareflow.store.sessions`) inside a folder that holds
its marker file ``.rareflow-store`` and its database. Before creating a store in a folder, and
whenever the database is missing, :func:`check_root` refuses rather than guess.
"""

from __future__ import annotations

from pathlib import Path

from rareflow.store.errors import ForeignFolderError, MissingDatabaseError
from rareflow.store.files import results_root

MARKER_FILE = ".rareflow-store"
MARKER_TEXT = "This folder is a rareflow run store. Do not put other files under results/.\n"


def check_root(root: Path, db_file: Path) -> None:
    """Refuse to write to ``root`` if it lost its database or holds results it did not write."""
    if db_file.exists():
        return
    root = root.resolve()
    check_readable(root, db_file)
    results = results_root(root)
    if results.is_dir() and any(results.iterdir()):
        raise ForeignFolderError(
            f"{root} is not a rareflow run store, but its folder {results} already holds "
            "files; rareflow will not create a store there. Give an empty or new folder "
            "with --store, or move that results folder elsewhere."
        )


def is_store(root: Path, db_file: Path) -> bool:
    """Whether ``root`` holds a run store (its database, or the marker of one that lost it)."""
    return db_file.exists() or (root / MARKER_FILE).exists()


def check_readable(root: Path, db_file: Path) -> None:
    """Refuse to read (or write) a store whose marker shows it held a database that is gone."""
    if db_file.exists() or not (root / MARKER_FILE).exists():
        return
    root = root.resolve()
    raise MissingDatabaseError(
        f"run store {root} has lost its database {db_file.name} (its marker file "
        f"{MARKER_FILE} shows it held a store). Nothing was changed or deleted. Restore "
        f"{db_file.name} from a backup, or, to start over, move {results_root(root)} "
        f"elsewhere and delete {root / MARKER_FILE}."
    )


def mark(root: Path) -> None:
    """Write the marker file (creating a store, or adopting one made before markers)."""
    marker = root / MARKER_FILE
    if not marker.exists():
        marker.write_text(MARKER_TEXT)
