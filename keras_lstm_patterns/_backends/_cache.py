"""The one cache of the backend package: a record per model, dropped with the model."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["ModelCache", "cache"]

T = TypeVar("T")


class ModelCache:
    """What the package keeps about a model between calls, under named keys.

    The records are held by a ``weakref.WeakKeyDictionary``, so a model that goes out of
    scope takes its record with it; a value that refers back to its model must do so
    through a ``weakref.ref`` (as every compiled program here does), or the model would
    never be freed.

    >>> class Model: ...
    >>> model, made = Model(), []
    >>> cache = ModelCache()
    >>> cache.get(model, "double", lambda: made.append(1) or 2), cache.get(model, "double", list)
    (2, 2)
    >>> len(made)
    1
    """

    def __init__(self) -> None:
        self._records: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()

    def record(self, model: Any) -> dict[str, Any]:
        """The model's record (created empty), to read and write directly."""
        record = self._records.get(model)
        if record is None:
            record = self._records[model] = {}
        return record

    def get(self, model: Any, key: str, make: Callable[[], T]) -> T:
        """The value under ``key`` for ``model``, made by ``make()`` the first time."""
        record = self.record(model)
        if key not in record:
            record[key] = make()
        return record[key]


cache = ModelCache()
