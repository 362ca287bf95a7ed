"""Damaged stores: a cheap check of result files, and errors that say how to recover.

A draw recorded as done must have one Parquet file per variable of its layout, and together
they hold the bytes the database recorded for it (``draws.n_bytes``). :func:`check_draw`
checks that without reading any rows: per file one ``stat`` and a read of its first 4 and last
8 bytes (Parquet's magic ``PAR1`` at both ends and a footer length that fits in the file).
It finds missing, truncated, emptied and overwritten-at-the-ends files; a file damaged only in
its middle passes and is reported when it is read (every read path turns a failure to read a
result file into :class:`~rareflow.store.errors.CorruptStoreError`, see
:func:`error_from_message`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rareflow.store import files
from rareflow.store.errors import CorruptStoreError

PARQUET_MAGIC = b"PAR1"
#: Magic at the start, footer length and magic at the end.
_MIN_PARQUET_BYTES = 12
_RESULT_PATH = re.compile(
    r"(?:^|[\s'\"/])" + re.escape(files.RESULTS_DIR)
    + r"/(?P<run>[^/\s'\"]+)/" + re.escape(files.DRAW_PREFIX)
    + r"(?P<draw>\d+)/(?P<name>[^/\s'\"]+?)" + re.escape(files.PARQUET_SUFFIX)
)


@dataclass(frozen=True)
class Damage:
    """One damaged file (or draw folder) of a done draw, and what is wrong with it."""

    run_id: str
    draw: int
    path: Path
    problem: str

    def __str__(self) -> str:
        return f"{self.path} {self.problem}"


def check_file(path: Path) -> tuple[str | None, int]:
    """What is wrong with the Parquet file at ``path`` (None if it looks whole) and its size."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            return "is not a file", 0
        if size < _MIN_PARQUET_BYTES:
            return f"is truncated ({size} bytes)", size
        with path.open("rb") as handle:
            head = handle.read(4)
            handle.seek(size - 8)
            tail = handle.read(8)
    except FileNotFoundError:
        return "is missing", 0
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})", 0
    footer = int.from_bytes(tail[:4], "little")
    if head != PARQUET_MAGIC or tail[4:] != PARQUET_MAGIC:
        return "is not a readable Parquet file (truncated or overwritten)", size
    if footer + _MIN_PARQUET_BYTES > size:
        return "has a damaged Parquet footer", size
    return None, size


def check_draw(
    root: Path, run_id: str, draw: int, variables: list[str], n_bytes: int
) -> list[Damage]:
    """Damaged files of one done draw; a size that differs from the recorded one counts too."""
    damage: list[Damage] = []
    total = 0
    for name in variables:
        path = files.variable_file(root, run_id, draw, name)
        problem, size = check_file(path)
        total += size
        if problem is not None:
            damage.append(Damage(run_id, draw, path, problem))
    if not damage and n_bytes and total != n_bytes:
        damage.append(Damage(run_id, draw, files.draw_dir(root, run_id, draw),
                             f"holds {total} bytes of Parquet, not the {n_bytes} recorded"))
    return damage


def recovery_hint(run_id: str) -> str:
    """How to recover from a damaged run (one line)."""
    return (f"to recover, delete the run with `rareflow runs delete {run_id}` and run it again "
            "(an ensemble instead redoes its damaged draws when the same `rareflow ensemble` "
            "command is run again)")


def damaged_file_error(root: Path, damage: Damage) -> CorruptStoreError:
    """The error for a damaged result file: names the run, the file and how to recover."""
    return CorruptStoreError(
        f"run {damage.run_id} in run store {root.resolve()} is damaged: draw {damage.draw} file "
        f"{damage.path} {damage.problem}; {recovery_hint(damage.run_id)}"
    )


def damaged_database_error(path: Path, cause: BaseException) -> CorruptStoreError:
    """The error for a damaged or truncated ``runs.duckdb``: names it and how to recover."""
    reason = " ".join(str(cause).split())[:300]
    return CorruptStoreError(
        f"the database {path.resolve()} of the run store is damaged or unreadable ({reason}); "
        f"to recover, restore {path.name} from a backup (the result files under "
        f"{files.RESULTS_DIR}/ are kept), or move the store folder aside and start a new one"
    )


def error_from_message(root: Path, message: str) -> CorruptStoreError | None:
    """A :class:`CorruptStoreError` for a reader's error that names a result file, else None.

    The file is checked again to say what is wrong with it; if it now looks whole, the reader's
    own message is given.
    """
    found = _RESULT_PATH.search(message)
    if found is None:
        return None
    run_id, draw, name = found["run"], int(found["draw"]), found["name"]
    path = files.variable_file(root, run_id, draw, name)
    problem, _ = check_file(path)
    if problem is None:
        problem = "cannot be read (" + " ".join(message.split())[:300] + ")"
    return damaged_file_error(root, Damage(run_id, draw, path, problem))
