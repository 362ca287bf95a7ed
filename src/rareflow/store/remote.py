"""Draw files through a results URL that an ensemble's workers and its driver share (fsspec).

```
<url>/<run_id>/<session>/draw-<n>.<hex>/<variable>.parquet   one draw, as one worker wrote it
<url>/.rareflow-probes/<hex>                                 a worker's probe, removed at once
```

Instead of returning a draw's Parquet files through Dask, a worker can write them under a URL
that every worker and the driver can reach (``file://`` on a shared mount, ``s3://``,
``gs://``: any fsspec protocol whose package is installed) and return only a
:class:`RemoteDraw`: the files' paths, sizes and SHA-256 digests. The driver fetches the files
(:meth:`ResultsLocation.fetch`), refuses any whose size or digest differs, and commits the rest
into its run store exactly as it commits draws returned through Dask; then it removes them.

A worker writes a draw into a fresh folder (``<hex>`` is new for every attempt) and returns its
manifest only once every file is written, so a half-written draw, or a second attempt at the
same draw, is never taken: the driver reads only what a manifest lists, with that digest.
``<session>`` is the name of the driver's writer session
(:attr:`rareflow.store.RunStore.staging_dir`), so folders left by a driver that died are told
apart from a live driver's, and removed by the next driver of the same run
(:meth:`ResultsLocation.clean_run`); their draws are run again, never half-taken.
"""

from __future__ import annotations

import contextlib
import hashlib
import posixpath
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import fsspec
import pyarrow as pa
from fsspec.core import url_to_fs
from fsspec.registry import known_implementations

from rareflow.store.files import PARQUET_SUFFIX
from rareflow.store.sessions import is_session_name
from rareflow.store.staging import DrawFiles

#: Folder (under the URL) of the probe files that show a worker's writes reach the driver.
PROBE_DIR = ".rareflow-probes"
DRAW_PREFIX = "draw-"


class ResultsUrlError(ValueError):
    """A results URL that cannot be used: unknown protocol, missing package, not writable."""


@dataclass(frozen=True)
class RemoteFile:
    """One Parquet file of a draw written under a results URL."""

    variable: str
    #: Path relative to the results URL.
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class RemoteDraw:
    """What a worker returns for a draw written under a results URL: where, how big, digests."""

    url: str
    run_id: str
    draw: int
    layout_id: str
    layout_text: str
    attrs: dict[str, Any]
    #: The draw's folder, relative to the results URL.
    folder: str
    files: tuple[RemoteFile, ...]

    @property
    def n_bytes(self) -> int:
        """Total size of the draw's files."""
        return sum(item.size for item in self.files)


@dataclass(frozen=True)
class FetchFailure:
    """A draw whose files could not be fetched whole: what went wrong."""

    draw: int
    error: str


def _package_of(protocol: str) -> str | None:
    """The package that implements fsspec ``protocol`` (None when fsspec knows no package)."""
    known = known_implementations.get(protocol)
    return str(known["class"]).split(".", 1)[0] if known else None


class ResultsLocation:
    """A results URL, opened: its filesystem and root path (checked when made).

    Raises :class:`ResultsUrlError`, naming the URL, when the URL has no protocol, fsspec knows
    no such protocol, or the protocol's package (``s3fs``, ``gcsfs``, ...) is not installed.
    """

    def __init__(self, url: str) -> None:
        if "://" not in url:
            raise ResultsUrlError(
                f"results URL {url!r} has no protocol; give one that every worker and this "
                "process can reach, e.g. file:///mnt/shared/rareflow-staging (a shared mount) "
                "or s3://bucket.example/rareflow-staging")
        try:
            fs, root = url_to_fs(url)
        except ImportError as exc:
            protocol = url.split("://", 1)[0].split("::")[0]
            package = _package_of(protocol)
            hint = (f"install {package} (pip install {package}) here and on every worker"
                    if package else "install the package that implements it")
            raise ResultsUrlError(f"results URL {url!r}: protocol {protocol!r} needs a package "
                                  f"that is not installed ({exc}); {hint}") from None
        except ValueError as exc:
            raise ResultsUrlError(f"results URL {url!r}: {exc} (fsspec knows no such "
                                  "protocol; e.g. file://, s3://, gs://)") from None
        self.fs: fsspec.AbstractFileSystem = fs
        self.root: str = str(root).rstrip("/") or "/"
        #: The URL in full (a local path made absolute): what the workers are given.
        self.url: str = str(fs.unstrip_protocol(self.root))

    def __repr__(self) -> str:
        return f"ResultsLocation({self.url!r})"

    def _path(self, relative: str) -> str:
        return posixpath.join(self.root, relative)

    def check_writable(self) -> None:
        """Write, read back and remove a probe file; raise :class:`ResultsUrlError` if any fails."""
        token = uuid.uuid4().hex
        path = f"{PROBE_DIR}/{token}"
        try:
            self.fs.makedirs(self._path(PROBE_DIR), exist_ok=True)
            self.fs.pipe_file(self._path(path), token.encode())
            echoed = self.fs.cat_file(self._path(path))
        except Exception as exc:
            raise ResultsUrlError(f"results URL {self.url} cannot be written "
                                  f"({type(exc).__name__}: {exc})".replace("\n", " ")) from None
        finally:
            self.remove_probes([path])
        if echoed != token.encode():
            raise ResultsUrlError(f"results URL {self.url} does not give back what was written "
                                  "to it")

    def read_probe(self, path: str, token: str) -> bool:
        """Whether the probe file at ``path`` (relative) holds ``token`` as seen from here."""
        try:
            return bool(self.fs.cat_file(self._path(path)) == token.encode())
        except (OSError, ValueError):
            return False

    def remove_probes(self, paths: Sequence[str]) -> None:
        """Remove probe files (relative paths), and their folder once it is empty."""
        self._remove_paths([self._path(path) for path in paths])
        self._remove_empty(PROBE_DIR)

    def session_folder(self, run_id: str, session: str) -> str:
        """The folder (relative) where a driver session's workers put draws of ``run_id``."""
        return f"{run_id}/{session}"

    def put_draw(self, folder: str, drawn: DrawFiles) -> RemoteDraw:
        """Write ``drawn``'s files into a fresh folder under ``folder``; return the manifest.

        Each call makes its own folder, so two attempts at a draw never share a file. The
        manifest is made only once every file is written.
        """
        draw_folder = f"{folder}/{DRAW_PREFIX}{drawn.draw}.{uuid.uuid4().hex[:12]}"
        self.fs.makedirs(self._path(draw_folder), exist_ok=True)
        contents: dict[str, bytes] = {}
        listed: list[RemoteFile] = []
        for variable, blob in drawn.blobs.items():
            path = f"{draw_folder}/{variable}{PARQUET_SUFFIX}"
            data = blob.to_pybytes()
            contents[self._path(path)] = data
            listed.append(RemoteFile(variable, path, len(data),
                                     hashlib.sha256(data).hexdigest()))
        self.fs.pipe(contents)
        return RemoteDraw(self.url, drawn.run_id, drawn.draw, drawn.layout_id,
                          drawn.layout_text, drawn.attrs, draw_folder, tuple(listed))

    def fetch(self, manifests: Sequence[RemoteDraw]) -> list[DrawFiles | FetchFailure]:
        """Read the files the manifests list and check them: the draws, or why each failed.

        A file that is missing, or whose size or SHA-256 differs from its manifest's, fails
        its draw (nothing of that draw is returned).
        """
        paths = [self._path(item.path) for manifest in manifests for item in manifest.files]
        read: dict[str, bytes | Exception] = (
            self.fs.cat(paths, on_error="return") if paths else {})
        out: list[DrawFiles | FetchFailure] = []
        for manifest in manifests:
            blobs: dict[str, pa.Buffer] = {}
            problem = "" if manifest.url == self.url else (
                f"it was written under {manifest.url}, not {self.url}")
            for item in manifest.files:
                if problem:
                    break
                data = read.get(self._path(item.path), FileNotFoundError(item.path))
                if isinstance(data, Exception):
                    problem = f"{item.path} cannot be read ({type(data).__name__}: {data})"
                elif len(data) != item.size:
                    problem = (f"{item.path} holds {len(data)} bytes, the worker wrote "
                               f"{item.size}")
                elif hashlib.sha256(data).hexdigest() != item.sha256:
                    problem = f"{item.path} does not match the SHA-256 the worker sent"
                else:
                    blobs[item.variable] = pa.py_buffer(data)
            if problem:
                out.append(FetchFailure(manifest.draw, (
                    f"the files of draw {manifest.draw} under results URL {self.url} are "
                    f"damaged: {problem}; not stored, run the ensemble again to redo the draw"
                ).replace("\n", " ")))
            else:
                out.append(DrawFiles(manifest.run_id, manifest.draw, manifest.layout_id,
                                     manifest.layout_text, manifest.attrs, blobs))
        return out

    def remove_draws(self, manifests: Sequence[RemoteDraw]) -> None:
        """Remove the draws' folders (those already gone are skipped)."""
        self._remove_paths([self._path(manifest.folder) for manifest in manifests])

    def clean_run(self, run_id: str, live_sessions: Callable[[], set[str]]) -> list[str]:
        """Remove the folders of ``run_id`` left by sessions that ended; return them (relative).

        ``live_sessions`` is asked after the folders are listed, so a session that started
        meanwhile (its folder made after the listing) is never taken for a dead one. Only
        folders named like writer sessions are removed.
        """
        names = [posixpath.basename(path.rstrip("/")) for path in self._list(run_id)]
        live = live_sessions()
        removed = [f"{run_id}/{name}" for name in sorted(names)
                   if is_session_name(name) and name not in live]
        for folder in removed:
            self._remove_tree(folder)
        self._remove_empty(run_id)
        return removed

    def remove_session(self, run_id: str, session: str) -> None:
        """Remove a session's folder of ``run_id`` (and the run's folder once it is empty)."""
        self._remove_tree(self.session_folder(run_id, session))
        self._remove_empty(run_id)

    def _list(self, relative: str) -> list[str]:
        try:
            return [str(path) for path in self.fs.ls(self._path(relative), detail=False)]
        except (FileNotFoundError, NotADirectoryError):
            return []

    def _remove_tree(self, relative: str) -> None:
        self._remove_paths([self._path(relative)])

    def _remove_paths(self, paths: list[str]) -> None:
        """Remove files and folders (full paths), as far as possible.

        Those already gone are skipped, and one that cannot be removed is left: removing is
        tidying up after the draws are stored (a session's leftovers go with its folder).
        """
        if not paths:
            return
        try:
            self.fs.rm(paths, recursive=True)  # one call: object stores delete in bulk
        except OSError:  # some were gone or could not go: the rest one by one
            for path in paths:
                with contextlib.suppress(OSError):
                    self.fs.rm(path, recursive=True)
        for path in paths:
            self.fs.invalidate_cache(path)

    def _remove_empty(self, relative: str) -> None:
        """Remove the folder ``relative`` if it holds nothing (object stores have no folders)."""
        if relative and not self._list(relative):
            with contextlib.suppress(FileNotFoundError, OSError):
                self.fs.rmdir(self._path(relative))


def write_probe(url: str, token: str) -> str:
    """Write ``token`` into a new probe file under ``url``; return its path (relative).

    Run on each worker before an ensemble: the driver then reads the file back
    (:meth:`ResultsLocation.read_probe`), which shows that what the worker writes reaches it.
    """
    location = ResultsLocation(url)
    path = f"{PROBE_DIR}/{uuid.uuid4().hex}"
    location.fs.makedirs(location._path(PROBE_DIR), exist_ok=True)
    location.fs.pipe_file(location._path(path), token.encode())
    return path
