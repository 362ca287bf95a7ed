"""Driver and worker must run the same rareflow code on the same world data, or refuse.

An ensemble's draws are only comparable, and a resumed run only whole, if every worker runs
exactly the driver's model. So the driver sends two versions with every task and the worker
compares them with its own before it runs anything:

* the **code version**: the package version plus a digest of every ``.py`` file of the
  installed ``rareflow`` package (:func:`code_version`), so two installations of the same
  release that differ by a local patch differ too;
* the **data version** of the world (:func:`~rareflow.runs.ensemble.worker.data_version`:
  name, version and a digest of its content). The world travels with the task as JSON; the
  worker parses it with its own code and digests it again, so a worker that reads the data
  differently (another schema, another default) is caught even when the code digest is not
  consulted.

A mismatch raises :class:`VersionMismatchError`, naming both versions and the worker.
"""

from __future__ import annotations

import hashlib
import socket
from functools import cache
from pathlib import Path

from rareflow.version import __version__

#: The folder of the ``rareflow`` package this module was imported from.
_PACKAGE = Path(__file__).resolve().parents[2]


class VersionMismatchError(RuntimeError):
    """A worker's rareflow code or world data differs from the driver's."""

    def __init__(self, what: str, driver: str, worker: str, where: str = "") -> None:
        super().__init__(what, driver, worker, where)
        self.what = what
        self.driver = driver
        self.worker = worker
        self.where = where

    def __str__(self) -> str:
        where = f" on {self.where}" if self.where else ""
        fix = ("install the driver's rareflow version on every worker" if self.what == "code"
               else "give every worker the driver's rareflow version and world data")
        return (f"the Dask worker{where} has rareflow {self.what} version {self.worker}, the "
                f"driver {self.driver}; refusing to mix them in one ensemble ({fix})")


@cache
def code_version() -> str:
    """``<package version>+<digest>``: the digest covers every ``.py`` file of the package."""
    package = _PACKAGE
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return f"{__version__}+{digest.hexdigest()[:12]}"


def check_code_version(expected: str) -> None:
    """Raise :class:`VersionMismatchError` unless this process runs code version ``expected``."""
    own = code_version()
    if own != expected:
        raise VersionMismatchError("code", expected, own, socket.gethostname())


def check_data_version(expected: str, own: str) -> None:
    """Raise :class:`VersionMismatchError` unless ``own`` (the data read here) is ``expected``."""
    if own != expected:
        raise VersionMismatchError("data", expected, own, socket.gethostname())
