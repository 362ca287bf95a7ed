"""The engine's Python-backed text storage stays inside the engine's build."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from rareflow.engine.pythontext import python_text


def storage() -> str:
    """The storage pandas gives a new text column now."""
    dtype = pd.Series(["Dy"]).dtype
    assert isinstance(dtype, pd.StringDtype)
    return str(dtype.storage)


def test_python_storage_inside_and_the_callers_setting_after() -> None:
    before = pd.get_option("mode.string_storage")
    with python_text():
        assert storage() == "python"
        with python_text():  # nested
            assert storage() == "python"
        assert storage() == "python"
    assert pd.get_option("mode.string_storage") == before


def test_setting_restored_after_an_error() -> None:
    before = pd.get_option("mode.string_storage")
    with pytest.raises(RuntimeError), python_text():
        raise RuntimeError("build failed")
    assert pd.get_option("mode.string_storage") == before


def test_overlapping_threads_restore_the_setting_once_the_last_leaves() -> None:
    before = pd.get_option("mode.string_storage")
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[str] = []

    def first() -> None:
        with python_text():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with python_text():
            second_in.set()
            first_out.wait(5)
            seen.append(storage())  # the first thread left; this one is still inside

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == ["python"]
    assert pd.get_option("mode.string_storage") == before


def test_results_keep_the_default_text_storage() -> None:
    """Only the engine's build uses the Python storage: a user's merges with results do not
    meet two storages (which would turn their text columns into objects)."""
    from rareflow.engine.simulate import simulate
    from rareflow.testing import tiny_world

    result = simulate(tiny_world(), [2024])
    for name, coordinate in result.coords.items():
        index = coordinate.to_index()
        if isinstance(index.dtype, pd.StringDtype):
            assert index.dtype.storage == storage(), name
    table = result.production.isel(year=0).to_series().reset_index()
    assert not any(pd.api.types.is_object_dtype(dtype) for dtype in table.dtypes)
