"""Exceptions raised by the run store; all derive from :class:`StoreError`."""

from __future__ import annotations


class StoreError(Exception):
    """Base class for every run-store error."""


class StoreLockedError(StoreError):
    """The store is held by another process for longer than the lock timeout."""


class StoreReadOnlyError(StoreError):
    """A write was attempted through a store opened with ``read_only=True``."""


class StoreNotWritableError(StoreReadOnlyError):
    """The store's folder or files cannot be written (e.g. a read-only mount); reading works."""


class CorruptStoreError(StoreError):
    """Files or metadata in the store are damaged, missing, or do not match each other.

    The message names the run (or the database) and the file, and says how to recover.
    """


class MissingDatabaseError(CorruptStoreError):
    """The store's marker is there but its database is gone; it refuses to write (or delete)."""


class ForeignFolderError(StoreError):
    """The folder already holds files the store did not write, so it will not become a store."""


class UnsupportedDatasetError(StoreError, ValueError):
    """A Dataset uses a feature the store cannot round-trip exactly (names, dtypes, attrs)."""


class RunNotFoundError(StoreError, KeyError):
    """No run has the given id or id prefix."""

    def __str__(self) -> str:
        # KeyError quotes its argument; show the message as written.
        return str(self.args[0]) if self.args else ""


class AmbiguousRunError(StoreError, KeyError):
    """An id prefix matches more than one run."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DrawNotFoundError(StoreError, KeyError):
    """The draw is not completed (missing, failed, or out of range)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class VariableNotFoundError(StoreError, KeyError):
    """No completed draw of the run holds the requested variable."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DrawStateError(StoreError, ValueError):
    """The draw is in a state that forbids the operation (e.g. writing a draw already done)."""
