"""The bundled scenario library and how scenario names and paths are resolved.

The YAML files live inside the package, in ``rareflow/scenarios/`` (shipped as package data, so
they exist in editable and wheel installs alike); the repository's top-level ``scenarios``
is a symbolic link to that folder.
"""

from __future__ import annotations

from pathlib import Path

from rareflow.model.errors import DataError, closest_name

SUFFIXES = (".yaml", ".yml")


def library_dir() -> Path:
    """Folder of the bundled scenarios."""
    return Path(__file__).resolve().parent.parent / "scenarios"


def bundled_names() -> list[str]:
    """Names of the bundled scenarios, sorted."""
    folder = library_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


def bundled_path(name: str) -> Path | None:
    """Path of the bundled scenario ``name``, or None."""
    for suffix in SUFFIXES:
        candidate = library_dir() / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.endswith(SUFFIXES)


def resolve(reference: str | Path, base: Path | None = None) -> Path:
    """The file a scenario reference names.

    A :class:`~pathlib.Path`, or a string that contains a slash or ends in ``.yaml``, is a path
    (relative to ``base``'s folder when given, else to the working directory). A bare name is
    ``<base folder>/<name>.yaml`` if that exists, else the bundled scenario of that name.
    """
    if isinstance(reference, Path) or _looks_like_path(reference):
        path = Path(reference)
        if not path.is_absolute() and base is not None:
            path = base.parent / path
        if not path.is_file():
            raise DataError(f"scenario file not found: {path}", file=base)
        return path.resolve()
    if base is not None:
        for suffix in SUFFIXES:
            sibling = base.parent / f"{reference}{suffix}"
            if sibling.is_file():
                return sibling.resolve()
    elif Path(reference).is_file():
        return Path(reference).resolve()
    found = bundled_path(reference)
    if found is None:
        raise DataError(
            f"no bundled scenario '{reference}' (known: {', '.join(bundled_names())})",
            file=base,
            suggestion=closest_name(reference, bundled_names()),
        )
    return found.resolve()
